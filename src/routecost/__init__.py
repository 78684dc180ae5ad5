"""routecost: what your LLM traffic costs, and what it would cost under other policies."""

__version__ = "0.1.0"

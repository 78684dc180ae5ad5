"""Prices: the genai-prices catalog, the user's price file, and the vectorized pricing of requests."""

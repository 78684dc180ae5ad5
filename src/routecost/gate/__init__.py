"""Comparing two reports (``routecost diff``) and holding a policy change to thresholds (``routecost gate``)."""

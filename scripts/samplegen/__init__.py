"""The sample logs' generator, by what it generates (``scripts/make_sample_logs.py`` runs it)."""

"""Replay: send a sample of moved requests to their new models and judge the answers."""

"""Metric history: the names (names.py) and the default store in the database (store.py)."""

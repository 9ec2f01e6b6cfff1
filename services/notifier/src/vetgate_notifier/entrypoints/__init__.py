"""Notifier service: entrypoints."""

"""Notifier service: adapters."""

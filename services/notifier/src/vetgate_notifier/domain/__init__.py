"""Notifier service: domain."""

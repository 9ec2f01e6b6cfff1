"""Notifier service: service layer."""

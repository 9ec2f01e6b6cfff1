"""Vetgate notifier service: credential delivery by signed webhook or email."""

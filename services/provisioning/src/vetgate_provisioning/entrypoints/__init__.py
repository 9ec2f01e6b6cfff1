"""Provisioning service: entrypoints."""

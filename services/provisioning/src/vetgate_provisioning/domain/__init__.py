"""Provisioning service: domain."""

"""Provisioning service: service layer."""

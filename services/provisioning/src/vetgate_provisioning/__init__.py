"""Vetgate provisioning service: virtual users and per-tenant client credentials."""

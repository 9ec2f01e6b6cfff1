"""Catalogue service: adapters."""

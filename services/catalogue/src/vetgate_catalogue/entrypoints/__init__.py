"""Catalogue service: entrypoints."""

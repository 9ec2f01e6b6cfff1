"""Catalogue service: domain."""

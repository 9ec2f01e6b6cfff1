"""Catalogue service: service layer."""

"""Vetgate token service: the OAuth 2.0 authorization server."""

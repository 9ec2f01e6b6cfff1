"""Token service: domain."""

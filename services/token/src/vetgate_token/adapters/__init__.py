"""Token service: adapters."""

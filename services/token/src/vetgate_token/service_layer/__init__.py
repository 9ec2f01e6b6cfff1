"""Token service: service layer."""

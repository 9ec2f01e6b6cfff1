"""Token service: entrypoints."""

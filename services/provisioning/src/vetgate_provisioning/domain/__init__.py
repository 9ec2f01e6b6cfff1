"""Provisioning's rules: plain objects, no I/O."""

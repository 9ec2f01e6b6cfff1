"""Vetgate catalogue service: integration templates, the tenant catalogue and activations."""

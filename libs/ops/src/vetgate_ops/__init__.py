"""Operator tooling for Vetgate\x27s event backbone (`vetgate topics|groups|tail|replay|republish|dlq`)."""

"""Sinks: each writes some record kinds into a domain's store, idempotently."""

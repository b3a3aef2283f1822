"""Errors reading a supergraph SDL."""

from __future__ import annotations


class SupergraphError(Exception):
    """The SDL is not a supergraph this router can serve; the message says what is missing."""

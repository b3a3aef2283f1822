"""The ingestion fixtures (tests/support/ingest.py) for every test here."""

from tests.support.ingest import databases, fake_servers, make_pipeline

__all__ = ["databases", "fake_servers", "make_pipeline"]

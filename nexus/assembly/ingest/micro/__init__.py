"""The micro domain's sources: SEC EDGAR (filings and XBRL facts), the X API v2 (recent
search and filtered stream) and Reddit listings, each with its fake server, all written to the
micro store by one sink (`sink.py`) that embeds and scores posts as it stores them."""

from nexus.assembly.ingest.errors import IngestError


class MissingSetting(IngestError):
    """A source's required environment variable is unset or unusable: the run stops before
    any request (the schedule's other sources go on). The message names the variable."""

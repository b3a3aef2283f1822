"""One module per published format; each exposes `CONNECTORS` (see
nexus.assembly.ingest.registry)."""

"""Ingestion: connectors fetch real published formats, a durable stream carries the records,
sinks write them idempotently to the domain's store, then domain events go out on the bus.

    source.fetch (rate-limited HTTP, retries)  ->  RecordStream (Redis Streams / in-process)
        ->  sink.write (idempotent on each record's key)  ->  cursor checkpoint  ->  bus events

A record or a response that cannot be used goes to the dead-letter store
(`nexus ingest dead-letters [--replay]`), never crashes the run. See /README "Ingestion" and
the connector modules in `nexus.assembly.ingest.connectors`.
"""

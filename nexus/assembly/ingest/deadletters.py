"""`nexus ingest dead-letters [--replay]`: what ingestion could not use, and storing it again.

A "store" letter holds the record the sink refused: replay writes it again through the sink
(after a fix, it is stored; still refused, it stays). A "fetch" letter holds the request whose
answer was unusable and the window it belonged to: replay runs the source again over that
window. A letter is removed only once its replay succeeded.
"""

from __future__ import annotations

from collections import defaultdict

from nexus.assembly.ingest.pipeline import Pipeline
from nexus.assembly.ingest.records import DeadLetter, Record, Window
from nexus.assembly.ingest.registry import connectors
from nexus.config import Settings


async def replay(pipeline: Pipeline, letters: list[DeadLetter]) -> tuple[int, int]:
    """(replayed, still dead)."""
    known = connectors()
    replayed: list[str] = []
    records: dict[str, list[tuple[DeadLetter, Record]]] = defaultdict(list)
    for letter in letters:
        connector = known.get(letter.source)
        if connector is None:
            continue
        if letter.stage == "store":
            records[letter.source].append((letter, Record.from_json(letter.payload)))
        else:
            report = await pipeline.run(connector, Window.from_json(letter.scope))
            if report.error is None:
                replayed.append(letter.id)
    for source, pairs in records.items():
        sink = pipeline.sink(known[source])
        await sink.ensure_schema()
        written = await sink.write([record for _, record in pairs])
        refused = {record.key for record, _ in written.rejected}
        replayed += [letter.id for letter, record in pairs if record.key not in refused]
        for event in written.events:
            await pipeline.bus.publish(event.channel, event.event, retain=event.retain)
    await pipeline.dead.remove(replayed)
    return len(replayed), len(letters) - len(replayed)


async def show_or_replay(settings: Settings, source: str | None, limit: int, again: bool) -> int:
    from nexus.assembly.ingest.runtime import open_pipeline

    pipeline, close = open_pipeline(settings)
    try:
        await pipeline.dead.ensure_schema()
        letters = await pipeline.dead.letters(source, limit)
        for letter in letters:
            print(
                f"{letter.id}  {letter.at}  {letter.source:<12} {letter.stage:<6} {letter.reason}"
            )
        if not letters:
            print("no dead letters")
        if again and letters:
            done, left = await replay(pipeline, letters)
            print(f"replayed {done}, still dead {left}")
            return 1 if left else 0
    finally:
        await close()
    return 0

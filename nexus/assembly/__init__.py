"""The assembly: the top layer, where the runtime and the subgraphs are put together.

The apps (`app`), the `nexus` command (`cli`), the subgraph registry (`registry`), demo loading
(`demo`), engine warm-up (`warmup`), schema export (`schema_export`), ingestion (`ingest`) and
the replay feed (`replay`) live here because they name subgraphs. Dependencies flow one way
(README, "Layout"; enforced by tests/test_layers.py): engines <- runtime (the rest of `nexus`,
and `graph`) <- subgraphs <- assembly. Nothing below imports this package.
"""

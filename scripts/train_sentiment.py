#!/usr/bin/env python
"""Train the sentiment head (engines/text/sentiment_head.npz) and report it on the held-out set.

    .venv/bin/python scripts/train_sentiment.py            # train, save, report
    .venv/bin/python scripts/train_sentiment.py --check    # train, compare with the shipped file

Training data: the project's hand-written sentences (engines/text/data/sentiment_train.tsv)
and the rule-labelled statements of engines.text._weak_labels (weight WEAK_WEIGHT each). The
head is a one-hidden-layer MLP over the MiniLM embedding and the tone features, trained by
full-batch Adam from a fixed seed, so a rerun on the same machine writes the same weights.
The held-out set (engines/text/data/sentiment_eval.tsv) is read only to print the figures,
beside the word-list baseline (engines.text.lexicon) on the same sentences. 5-fold
cross-validation on the training data chose the hidden width and weight decay (`--cv` prints it).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engines.text import encode  # noqa: E402
from engines.text._weak_labels import weak_sentences  # noqa: E402
from engines.text.lexicon import lexicon_labels  # noqa: E402
from engines.text.sentiment import HEAD_PATH, LABELS, head_inputs  # noqa: E402

DATA = ROOT / "engines" / "text" / "data"
HIDDEN = 64
WEIGHT_DECAY = 1e-3
STEPS = 800
LEARNING_RATE = 3e-3
WEAK_WEIGHT = 0.5
SEED = 7


def read_tsv(path: Path) -> tuple[list[str], np.ndarray, list[str]]:
    with path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE))
    labels = np.array([LABELS.index(row["label"]) for row in rows])
    return [row["text"] for row in rows], labels, [row["register"] for row in rows]


def train(
    x: np.ndarray, y: np.ndarray, weights: np.ndarray, hidden: int, decay: float
) -> dict[str, np.ndarray]:
    """Weighted, class-balanced cross-entropy plus decay * |W|^2, by full-batch Adam."""
    counts = np.bincount(y, weights=weights, minlength=3)
    sample = jnp.asarray(weights * (counts.sum() / (3 * counts))[y], dtype=jnp.float32)
    key1, key2 = jax.random.split(jax.random.PRNGKey(SEED))
    params = {
        "w1": jax.random.normal(key1, (x.shape[1], hidden)) * np.sqrt(2.0 / x.shape[1]),
        "b1": jnp.zeros(hidden),
        "w2": jax.random.normal(key2, (hidden, 3)) * np.sqrt(1.0 / hidden),
        "b2": jnp.zeros(3),
    }
    xs, ys = jnp.asarray(x), jax.nn.one_hot(y, 3)

    def loss(p: dict[str, jax.Array]) -> jax.Array:
        logits = jax.nn.relu(xs @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]
        nll = -jnp.sum(ys * jax.nn.log_softmax(logits), axis=1)
        return jnp.sum(sample * nll) / jnp.sum(sample) + decay * (
            jnp.sum(p["w1"] ** 2) + jnp.sum(p["w2"] ** 2)
        )

    @jax.jit
    def step(p, m, v, t):
        grads = jax.grad(loss)(p)
        m = jax.tree.map(lambda m, g: 0.9 * m + 0.1 * g, m, grads)
        v = jax.tree.map(lambda v, g: 0.999 * v + 0.001 * g * g, v, grads)
        p = jax.tree.map(
            lambda p, m, v: p - LEARNING_RATE * (m / (1 - 0.9**t)) / (
                jnp.sqrt(v / (1 - 0.999**t)) + 1e-8
            ),
            p, m, v,
        )
        return p, m, v

    m = jax.tree.map(jnp.zeros_like, params)
    v = jax.tree.map(jnp.zeros_like, params)
    for t in range(1, STEPS + 1):
        params, m, v = step(params, m, v, t)
    return {name: np.asarray(value, dtype=np.float32) for name, value in params.items()}


def predict(params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    hidden = np.maximum(x @ params["w1"] + params["b1"], 0.0)
    return np.argmax(hidden @ params["w2"] + params["b2"], axis=1)


def scores(truth: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    """Accuracy and macro-F1 (the unweighted mean of the three classes' F1)."""
    f1 = []
    for label in range(3):
        tp = np.sum((predicted == label) & (truth == label))
        precision = tp / max(np.sum(predicted == label), 1)
        recall = tp / max(np.sum(truth == label), 1)
        f1.append(0.0 if tp == 0 else 2 * precision * recall / (precision + recall))
    return float(np.mean(truth == predicted)), float(np.mean(f1))


def training_set() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    texts, labels, _ = read_tsv(DATA / "sentiment_train.tsv")
    weak = weak_sentences()
    all_texts = texts + [text for text, _ in weak]
    y = np.concatenate([labels, [LABELS.index(label) for _, label in weak]])
    weights = np.concatenate([np.ones(len(texts)), np.full(len(weak), WEAK_WEIGHT)])
    return head_inputs(encode(all_texts).vectors, all_texts), y, weights


def cross_validate(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> None:
    folds = np.random.default_rng(SEED).permutation(len(y)) % 5
    for hidden in (16, 64, 256):
        for decay in (1e-4, 1e-3):
            predicted = np.empty_like(y)
            for fold in range(5):
                test = folds == fold
                params = train(x[~test], y[~test], weights[~test], hidden, decay)
                predicted[test] = predict(params, x[test])
            accuracy, macro_f1 = scores(y, predicted)
            print(f"cv hidden={hidden:<4} decay={decay:<7g} accuracy={accuracy:.3f} "
                  f"macro-F1={macro_f1:.3f}")


def report(params: dict[str, np.ndarray]) -> None:
    texts, truth, registers = read_tsv(DATA / "sentiment_eval.tsv")
    model = predict(params, head_inputs(encode(texts).vectors, texts))
    baseline = lexicon_labels(texts)
    print(f"held-out set: {len(texts)} sentences ({DATA / 'sentiment_eval.tsv'})")
    print(f"{'register':<10}{'n':>5}  {'model acc':>10}{'model F1':>10}  {'lexicon acc':>12}"
          f"{'lexicon F1':>11}  {'all-neutral acc':>16}")
    for register in ("news", "social", "all"):
        chosen = np.array([register in ("all", r) for r in registers])
        m_acc, m_f1 = scores(truth[chosen], model[chosen])
        b_acc, b_f1 = scores(truth[chosen], baseline[chosen])
        neutral = float(np.mean(truth[chosen] == 1))
        print(f"{register:<10}{chosen.sum():>5}  {m_acc:>10.3f}{m_f1:>10.3f}  {b_acc:>12.3f}"
              f"{b_f1:>11.3f}  {neutral:>16.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", action="store_true", help="print 5-fold cross-validation")
    parser.add_argument("--check", action="store_true", help="compare with the shipped head")
    args = parser.parse_args()
    x, y, weights = training_set()
    if args.cv:
        cross_validate(x, y, weights)
    params = train(x, y, weights, HIDDEN, WEIGHT_DECAY)
    if args.check:
        with np.load(HEAD_PATH) as shipped:
            worst = max(float(np.max(np.abs(shipped[k] - params[k]))) for k in params)
        print(f"largest difference from the shipped head: {worst:.2e}")
    else:
        w1, b1, w2, b2 = (params[name] for name in ("w1", "b1", "w2", "b2"))
        np.savez_compressed(HEAD_PATH, w1=w1, b1=b1, w2=w2, b2=b2)
        print(f"wrote {HEAD_PATH} ({HEAD_PATH.stat().st_size / 1024:.0f} KB), "
              f"{len(y)} training sentences")
    report(params)


if __name__ == "__main__":
    main()

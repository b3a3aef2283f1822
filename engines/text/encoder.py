"""all-MiniLM-L6-v2 in JAX: sentence embeddings, 384 floats of unit length per text.

The forward pass is BERT's [1]: token, position and type embeddings, layer norm, then six
layers of

    h = LN(x + MHA(x) W_o + b_o),   x' = LN(h + GELU(h W_i + b_i) W_2 + b_2)

with 12-head scaled dot-product attention whose padded keys get a -inf-like bias, GELU the
exact erf form, LN with eps 1e-12. The sentence vector is the mean of the last layer over the
real (unpadded) tokens, divided by its L2 norm [2], so cosine similarity is a dot product.

Batches are padded to a few bucket shapes (`LENGTH_BUCKETS` tokens x `BATCH_BUCKETS` rows)
so one compiled program serves every request of that shape; texts are sorted by length first
so each chunk pads little. The six layers run as one `lax.scan` over stacked weights, which
keeps each compile small. Float32 throughout.

References:
    [1] Devlin et al. (2019). BERT: Pre-training of Deep Bidirectional Transformers for
        Language Understanding. NAACL.
    [2] Reimers & Gurevych (2019). Sentence-BERT. EMNLP; the all-MiniLM-L6-v2 model card.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from engines.text._model import HEADS, HIDDEN, MAX_TOKENS, encoder_weights, tokenizer
from engines.text._normalise import normalise

__all__ = ["BATCH_BUCKETS", "DIMENSIONS", "LENGTH_BUCKETS", "Encoded", "TokenBatch", "encode"]

DIMENSIONS = HIDDEN
LENGTH_BUCKETS = (16, 24, 32, 64, MAX_TOKENS)
BATCH_BUCKETS = (1, 8, 64, 256)
_EPS = 1e-12


class TokenBatch(NamedTuple):
    """Token ids and the attention mask of a batch, each int32 `[batch, tokens]`."""

    ids: np.ndarray
    mask: np.ndarray


class Encoded(NamedTuple):
    """Embeddings of a list of texts, in the order given.

    Attributes:
        vectors: float32 `[n, 384]`, each row of unit L2 norm.
        truncated: bool `[n]`, True where the text was longer than `MAX_TOKENS` tokens and
            only its beginning was encoded.
    """

    vectors: np.ndarray
    truncated: np.ndarray


def _layer_norm(x: jax.Array, scale: jax.Array, shift: jax.Array) -> jax.Array:
    mean = jnp.mean(x, axis=-1, keepdims=True)
    variance = jnp.mean(jnp.square(x - mean), axis=-1, keepdims=True)
    return (x - mean) * lax.rsqrt(variance + _EPS) * scale + shift


@cache
def _device_weights() -> tuple[jax.Array, ...]:
    """The weights as device arrays, transferred once per process."""
    return tuple(jax.tree_util.tree_leaves(jax.device_put(encoder_weights())))


@jax.jit
def _forward(weights: tuple[jax.Array, ...], ids: jax.Array, mask: jax.Array) -> jax.Array:
    (word, position, token_type, norm_scale, norm_shift, qkv, qkv_bias, attention_out,
     attention_out_bias, attention_scale, attention_shift, intermediate, intermediate_bias,
     output, output_bias, output_scale, output_shift) = weights
    batch, length = ids.shape
    head = HIDDEN // HEADS
    x = word[ids] + position[:length] + token_type
    x = _layer_norm(x, norm_scale, norm_shift)
    maskf = mask.astype(jnp.float32)
    key_bias = (1.0 - maskf)[:, None, None, :] * jnp.finfo(jnp.float32).min

    def layer(x: jax.Array, w: tuple[jax.Array, ...]) -> tuple[jax.Array, None]:
        (w_qkv, b_qkv, w_o, b_o, ln1_scale, ln1_shift, w_i, b_i, w_2, b_2, ln2_scale,
         ln2_shift) = w
        q, k, v = jnp.split((x @ w_qkv + b_qkv).reshape(batch, length, 3 * HEADS, head), 3, 2)
        scores = jnp.einsum("bqhd,bkhd->bhqk", q, k) / jnp.sqrt(jnp.float32(head)) + key_bias
        context = jnp.einsum("bhqk,bkhd->bqhd", jax.nn.softmax(scores, axis=-1), v)
        h = _layer_norm(x + context.reshape(batch, length, HIDDEN) @ w_o + b_o,
                        ln1_scale, ln1_shift)
        inner = jax.nn.gelu(h @ w_i + b_i, approximate=False)
        return _layer_norm(h + inner @ w_2 + b_2, ln2_scale, ln2_shift), None

    stacked = (qkv, qkv_bias, attention_out, attention_out_bias, attention_scale,
               attention_shift, intermediate, intermediate_bias, output, output_bias,
               output_scale, output_shift)
    x, _ = lax.scan(layer, x, stacked)
    pooled = jnp.sum(x * maskf[..., None], axis=1) / jnp.maximum(
        jnp.sum(maskf, axis=1, keepdims=True), 1e-9
    )
    return pooled / jnp.maximum(jnp.linalg.norm(pooled, axis=-1, keepdims=True), _EPS)


def _bucket(size: int, buckets: Sequence[int]) -> int:
    return next((bucket for bucket in buckets if bucket >= size), buckets[-1])


def embed_tokens(batch: TokenBatch) -> np.ndarray:
    """Unit-length float32 embeddings `[batch, 384]` of an already padded token batch.

    Args:
        batch: int32 ids and mask `[batch, tokens]`, tokens <= 512, each row starting with
            [CLS] and ending its real tokens with [SEP] (as `tokenize` makes them).
    """
    weights = _device_weights()
    return np.asarray(_forward(weights, jnp.asarray(batch.ids), jnp.asarray(batch.mask)))


def tokenize(texts: Sequence[str]) -> tuple[list[list[int]], np.ndarray]:
    """WordPiece ids of each normalised text ([CLS] ... [SEP], at most `MAX_TOKENS`), and
    which texts were truncated."""
    encodings = tokenizer().encode_batch([normalise(text) for text in texts])
    return (
        [encoding.ids for encoding in encodings],
        np.array([bool(encoding.overflowing) for encoding in encodings], dtype=bool),
    )


def encode(texts: Sequence[str], *, max_batch: int = BATCH_BUCKETS[-1]) -> Encoded:
    """Embed `texts` (any number; an empty text embeds [CLS] [SEP]).

    Each text's vector is e = m / |m|, m = sum_t mask_t h_t / sum_t mask_t, the mean of the
    last BERT layer h over its real tokens (formula in the module docstring). Texts are sorted
    by token count and cut into chunks of at most `max_batch`; each chunk is padded to the
    smallest length bucket that holds its longest text and the smallest batch bucket that
    holds its rows, so at most len(LENGTH_BUCKETS) x len(BATCH_BUCKETS) programs are ever
    compiled.

    Args:
        texts: any number of strings (an empty one embeds [CLS] [SEP]).
        max_batch: most rows per jitted call (capped at 256).

    Returns:
        `Encoded`: float32 vectors `[n, 384]` and the truncation flags `[n]`.

    References:
        [1] Devlin et al. (2019), BERT. [2] Reimers & Gurevych (2019), Sentence-BERT.

    Example:
        >>> vectors = encode(["Shares rose 5%", "The stock fell"]).vectors
        >>> vectors.shape, vectors.dtype
        ((2, 384), dtype('float32'))
    """
    vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    if not texts:
        return Encoded(vectors, np.zeros(0, dtype=bool))
    max_batch = min(max_batch, BATCH_BUCKETS[-1])
    ids, truncated = tokenize(texts)
    order = np.argsort([len(row) for row in ids], kind="stable")
    for start in range(0, len(order), max_batch):
        chunk = order[start : start + max_batch]
        length = _bucket(max(len(ids[i]) for i in chunk), LENGTH_BUCKETS)
        rows = _bucket(len(chunk), BATCH_BUCKETS)
        token_ids = np.zeros((rows, length), dtype=np.int32)
        mask = np.zeros((rows, length), dtype=np.int32)
        for row, index in enumerate(chunk):
            token_ids[row, : len(ids[index])] = ids[index]
            mask[row, : len(ids[index])] = 1
        mask[len(chunk) :, 0] = 1  # padding rows attend to one token: no 0/0 in softmax
        vectors[chunk] = embed_tokens(TokenBatch(token_ids, mask))[: len(chunk)]
    return Encoded(vectors, truncated)

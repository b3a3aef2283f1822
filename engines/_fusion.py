"""One XLA:CPU loop for several elementwise results.

XLA:CPU fuses elementwise work into loops with a single output each, and it does not
recompute an expensive shared value (``exp``, ``log``, a division) in several loops:
it writes it to memory and every loop that needs it reads it back.  For a function with
many results of the same intermediates (all Greeks of an option, the state of an
iterative solver) those passes cost more than the arithmetic.  A variadic reduction is
the one operation whose fusion has several outputs, so :func:`one_loop` routes the
results through one: each ``[n]`` result is paired with the identity of its reduction
(``[n, 2]``) and reduced over the pair, which returns it unchanged (``x + 0`` is exact,
``b | False`` is ``b``), and XLA fuses the whole elementwise computation into that loop,
computing each intermediate once per element.  Elsewhere (GPU) XLA fuses several
outputs by itself and the results pass through as they are.

The loop runs at vector speed only while LLVM vectorises it: XLA emits the reduction as
an inner loop over the pair, which LLVM unrolls (and then vectorises the loop over
elements) only for a body up to a certain size.  The Greeks of an option are within it;
eight more multiply-adds per element are not (measured: 2.3 ms against 31 ms for 1e6
float32 options), so what goes through here should stay lean.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from jax import lax


def _through_reduction(*results: jax.Array) -> tuple[jax.Array, ...]:
    shapes = [x.shape for x in results]
    flat = [x.reshape(-1) for x in results]
    identities = [jnp.zeros((), x.dtype) for x in flat]  # False for booleans
    paired = tuple(
        jnp.stack([x, jnp.broadcast_to(i, x.shape)], axis=-1)
        for x, i in zip(flat, identities, strict=True)
    )

    def combine(xs: Sequence[jax.Array], ys: Sequence[jax.Array]) -> tuple[jax.Array, ...]:
        return tuple(
            jnp.logical_or(x, y) if x.dtype == jnp.bool_ else x + y
            for x, y in zip(xs, ys, strict=True)
        )

    reduced = lax.reduce(paired, tuple(identities), combine, (1,))
    return tuple(x.reshape(shape) for x, shape in zip(reduced, shapes, strict=True))


def one_loop(*results: jax.Array) -> tuple[jax.Array, ...]:
    """``results`` unchanged, computed on CPU by one fused loop that writes them all.

    Traceable (use inside ``jax.jit``); the results must have the same shape.
    """
    return lax.platform_dependent(*results, cpu=_through_reduction, default=lambda *xs: xs)

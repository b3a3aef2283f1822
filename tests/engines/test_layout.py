"""Force-directed layout: reproducible, finite, and it draws connected nodes close together."""

from __future__ import annotations

import numpy as np
import pytest

from engines.errors import NonFiniteInputError, NonPositiveValueError, ShapeMismatchError
from engines.layout import force_directed_layout


def two_triangles() -> np.ndarray:
    """Two triangles (0-1-2 and 3-4-5) joined by one weak edge 2-3."""
    w = np.zeros((6, 6))
    for i, j in [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5)]:
        w[i, j] = w[j, i] = 1.0
    w[2, 3] = w[3, 2] = 0.1
    return w


def test_the_same_seed_gives_the_same_layout_and_another_seed_another() -> None:
    w = two_triangles()
    first = np.asarray(force_directed_layout(weights=w, seed=7))
    again = np.asarray(force_directed_layout(weights=w, seed=7))
    other = np.asarray(force_directed_layout(weights=w, seed=8))
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_connected_nodes_lie_closer_than_unconnected_ones(seed: int) -> None:
    xy = np.asarray(force_directed_layout(weights=two_triangles(), seed=seed))
    distance = np.linalg.norm(xy[:, None] - xy[None], axis=-1)
    within = [distance[i, j] for i, j in [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5)]]
    across = [distance[i, j] for i in (0, 1, 2) for j in (3, 4, 5)]
    assert max(within) < np.mean(across)
    assert np.mean(within) < 0.6 * np.mean(across)


def test_positions_are_finite_centred_and_within_the_unit_disc() -> None:
    xy = np.asarray(force_directed_layout(weights=two_triangles(), dtype=np.float32))
    assert xy.dtype == np.float32 and np.all(np.isfinite(xy))
    assert np.allclose(xy.mean(axis=0), 0.0, atol=1e-5)
    assert np.isclose(np.linalg.norm(xy, axis=-1).max(), 1.0, atol=1e-5)


def test_a_batch_pads_smaller_graphs_and_lays_each_out_as_alone() -> None:
    big = two_triangles()
    small = np.zeros((6, 6))
    small[0, 1] = small[1, 0] = 1.0
    mask = np.array([[True] * 6, [True, True, True, False, False, False]])
    xy = np.asarray(force_directed_layout(weights=np.stack([big, small]), node_mask=mask))
    assert xy.shape == (2, 6, 2) and np.all(np.isfinite(xy))
    np.testing.assert_array_equal(xy[1, 3:], 0.0)
    d = np.linalg.norm(xy[1, :3, None] - xy[1, None, :3], axis=-1)
    assert d[0, 1] < d[0, 2] and d[0, 1] < d[1, 2]  # node 2 has no edge


def test_bad_weights_are_rejected_before_the_layout() -> None:
    with pytest.raises(NonFiniteInputError):
        force_directed_layout(weights=np.full((3, 3), np.nan))
    with pytest.raises(NonPositiveValueError):
        force_directed_layout(weights=-np.ones((3, 3)))
    with pytest.raises(ShapeMismatchError):
        force_directed_layout(weights=np.ones((3, 4)))
    with pytest.raises(NonPositiveValueError):
        force_directed_layout(weights=np.triu(np.ones((3, 3))))

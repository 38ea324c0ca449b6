"""Bucketed weighted quantiles against numpy's sorted ``inverted_cdf`` quantile."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relaynet.coverage.quantiles import grouped_quantiles
from relaynet.errors import ParameterError

QS = (0.01, 0.1, 0.5, 0.9, 0.99, 1.0)


def numpy_oracle(values, weights, qs, groups, n_groups):
    out = np.full((len(qs), n_groups), np.nan)
    v = np.where(np.isnan(values), np.inf, values)
    for g in range(n_groups):
        inside = (groups == g) & (weights > 0)
        if inside.any():
            for i, q in enumerate(qs):
                out[i, g] = np.quantile(
                    v[inside], q, weights=weights[inside], method="inverted_cdf"
                )
    return out


def distances(rng, n):
    """Places mostly within a few km, a tail to hundreds of km, ties, zeros, unreached."""
    v = rng.gamma(1.5, 2500, n)
    far = rng.random(n) < 0.03
    v[far] = rng.uniform(5e4, 9e6, int(far.sum()))  # overseas places, hundreds of km
    v[rng.random(n) < 0.02] = 0.0  # demand at a point
    v[rng.random(n) < 0.02] = np.nan  # unreached
    tie = rng.random(n) < 0.2
    v[tie] = np.round(v[tie], -2)  # many equal values
    return v


@pytest.mark.parametrize("n, n_groups", [(200_000, 1), (200_000, 6), (50_000, 400), (3_000, 3)])
@pytest.mark.parametrize("weight_kind", ["integer", "float", "with_zeros"])
def test_equals_numpy_on_realistic_distances(n, n_groups, weight_kind):
    rng = np.random.default_rng(n + n_groups)
    v = distances(rng, n)
    w = {
        "integer": rng.integers(1, 300, n).astype(float),
        "float": rng.gamma(2.0, 50.0, n),
        "with_zeros": rng.integers(0, 3, n).astype(float),
    }[weight_kind]
    groups = rng.integers(0, n_groups, n)
    got = grouped_quantiles(v, w, QS, groups if n_groups > 1 else None, n_groups)
    np.testing.assert_array_equal(got, numpy_oracle(v, w, QS, groups, n_groups))


def test_single_bucket_cases():
    # all equal, all unreached, one place, negative values
    assert grouped_quantiles(np.full(100, 7.0), np.ones(100), [0.5])[0, 0] == 7.0
    assert grouped_quantiles(np.full(5, np.nan), np.ones(5), [0.5])[0, 0] == np.inf
    assert grouped_quantiles([3.0], [2.0], [0.01, 1.0])[:, 0].tolist() == [3.0, 3.0]
    v = np.array([-5.0, -1.0, 0.0, 2.0])
    assert grouped_quantiles(v, np.ones(4), [0.5])[0, 0] == -1.0
    empty = grouped_quantiles([1.0, 2.0], [1.0, 1.0], [0.5], np.array([0, 0]), 3)
    assert empty[0, 0] == 1.0 and np.isnan(empty[0, 1:]).all()


def test_rejects_bad_quantiles():
    with pytest.raises(ParameterError, match="quantile"):
        grouped_quantiles([1.0], [1.0], [0.0])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(
                st.floats(-1e9, 1e9, allow_nan=False),
                st.just(float("nan")),
                st.sampled_from([0.0, 1.0, 5000.0]),
            ),
            st.integers(0, 5),
            st.integers(0, 2),
        ),
        min_size=1,
        max_size=300,
    ),
    st.sampled_from(QS),
)
def test_equals_numpy_on_arbitrary_values(rows, q):
    v = np.array([r[0] for r in rows])
    w = np.array([r[1] for r in rows], dtype=float)
    groups = np.array([r[2] for r in rows])
    got = grouped_quantiles(v, w, [q], groups, 3)
    np.testing.assert_array_equal(got, numpy_oracle(v, w, [q], groups, 3))


def test_infinities_extremes_and_bad_groups():
    assert grouped_quantiles([-np.inf, 1.0, 2.0, 3.0], np.ones(4), [0.25])[0, 0] == -np.inf
    v = np.array([-1e308, 1e308, 0.0, np.inf, -np.inf])
    np.testing.assert_array_equal(
        grouped_quantiles(v, np.ones(5), QS), numpy_oracle(v, np.ones(5), QS, np.zeros(5), 1)
    )
    with pytest.raises(ParameterError, match="group codes"):
        grouped_quantiles([1.0, 2.0], [1.0, 1.0], [0.5], np.array([0, 3]), 2)

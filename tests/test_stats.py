"""The statistics policy: each function against a known answer or its defining property."""

from __future__ import annotations

import math

import numpy as np
import pytest

from databook import stats


def test_fdr_matches_the_benjamini_hochberg_step_up_by_hand():
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.5])
    # sorted: 0.005, 0.01, 0.03, 0.04, 0.5 -> p * m / rank, then the running minimum from the top
    order = np.argsort(p)
    raw = p[order] * 5 / np.arange(1, 6)
    expected_sorted = np.minimum.accumulate(raw[::-1])[::-1]
    expected = np.empty(5)
    expected[order] = expected_sorted
    np.testing.assert_allclose(stats.fdr(p), expected)


def test_fdr_keeps_untested_units_nan_and_refuses_impossible_p():
    q = stats.fdr([0.01, np.nan, 0.02])
    assert np.isnan(q[1]) and np.allclose(q[[0, 2]], [0.02, 0.02])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        stats.fdr([0.5, 1.2])


def test_paired_change_finds_suppressed_as_well_as_excited_units():
    rng = np.random.default_rng(1)
    baseline = rng.poisson(10, size=(60, 3)).astype(float)
    response = baseline + rng.normal(0, 1, size=(60, 3))
    response[:, 0] += 6  # excited
    response[:, 1] -= 6  # suppressed
    result = stats.paired_change(response, baseline)
    assert result.direction.tolist() == [1, -1, 0]
    assert result.significant.tolist() == [True, True, False]


def test_paired_change_on_null_data_reports_few_units_at_the_stated_fdr():
    rng = np.random.default_rng(7)
    baseline = rng.poisson(5, size=(40, 400)).astype(float)
    response = rng.poisson(5, size=(40, 400)).astype(float)
    result = stats.paired_change(response, baseline)
    # Under the global null BH at q = 0.05 reports any unit with probability <= 0.05.
    assert result.significant.sum() <= 2


def test_paired_change_gives_p_1_to_a_unit_that_never_changes():
    base = np.ones((10, 2))
    resp = base.copy()
    resp[:, 1] += np.arange(10)
    result = stats.paired_change(resp, base)
    assert result.p_value[0] == 1.0 and result.direction[0] == 0


def test_permutation_p_is_never_zero_and_prints_its_floor():
    p = stats.permutation_p(0, 1224)
    assert p == pytest.approx(1 / 1225)
    assert stats.format_p(p, 1224) == "p = 1/1225 (the smallest possible)"
    assert stats.format_p(0.013) == "p = 0.013"
    assert stats.format_p(0.0004) == "p < 0.001"
    with pytest.raises(ValueError):
        stats.permutation_p(5, 4)


def test_detectable_rho_at_n_30_is_about_half():
    # Fisher z: tanh((1.95996 + 0.84162) / sqrt(27)) = tanh(0.53917) = 0.49236
    assert stats.detectable_rho(30) == pytest.approx(0.49236, abs=1e-4)
    assert stats.detectable_rho(300) < stats.detectable_rho(30)


def test_spearman_describes_absence_of_evidence_honestly():
    rng = np.random.default_rng(3)
    x = rng.normal(size=30)
    y = 0.3 * x + rng.normal(size=30)
    result = stats.spearman(x, y)
    assert result.low < result.rho < result.high
    text = result.describe()
    if result.p_value >= 0.05:
        assert text.startswith("not detected") and "detects |rho| >=" in text
    strong = stats.spearman(x, x + 0.01 * rng.normal(size=30))
    assert strong.describe().startswith("detected")


def test_between_sessions_uses_sessions_not_pooled_units():
    # One big session with a high fraction must not dominate as it would when pooled.
    k = np.array([90, 1, 2, 1])
    n = np.array([100, 10, 10, 10])
    result = stats.between_sessions(k, n)
    assert result.mean == pytest.approx(np.mean([0.9, 0.1, 0.2, 0.1]))
    assert result.n_sessions == 4
    pooled = k.sum() / n.sum()
    assert abs(result.mean - pooled) > 0.2
    half = 3.182446 * result.sd / 2  # t(0.975, 3) * sd / sqrt(4)
    assert result.high - result.mean == pytest.approx(half, rel=1e-5)


def test_beta_binomial_recovers_a_planted_mean_and_overdispersion():
    rng = np.random.default_rng(11)
    true_p = rng.beta(3, 7, size=200)  # mean 0.3, rho = 1 / 11
    n = rng.integers(20, 60, size=200)
    k = rng.binomial(n, true_p)
    fit = stats.beta_binomial(k, n)
    assert fit.low < 0.3 < fit.high
    assert fit.mean == pytest.approx(0.3, abs=0.03)
    assert fit.rho == pytest.approx(1 / 11, abs=0.04)


def test_beta_binomial_of_binomial_sessions_finds_little_overdispersion():
    rng = np.random.default_rng(5)
    n = np.full(100, 50)
    k = rng.binomial(n, 0.2)
    fit = stats.beta_binomial(k, n)
    assert fit.rho < 0.02
    assert math.isclose(fit.mean, k.sum() / n.sum(), abs_tol=0.01)


def test_group_difference_finds_units_preferring_either_group_and_matches_scipy():
    from scipy.stats import mannwhitneyu

    rng = np.random.default_rng(3)
    right = rng.poisson(8, size=(45, 4)).astype(float)
    left = rng.poisson(8, size=(38, 4)).astype(float)
    right[:, 0] += 5  # prefers group a
    left[:, 1] += 5  # prefers group b
    left[:5, 3] = np.nan  # trials without the event are left out, not counted as 0
    result = stats.group_difference(right, left)
    assert result.direction.tolist()[:2] == [1, -1]
    assert result.significant.tolist()[:3] == [True, True, False]
    unit3 = mannwhitneyu(right[:, 3], left[5:, 3], alternative="two-sided").pvalue
    assert result.p_value[3] == pytest.approx(unit3)
    assert np.allclose(result.q_value, stats.fdr(result.p_value))


def test_group_difference_gives_p_1_to_a_silent_unit_and_refuses_mismatched_units():
    result = stats.group_difference(np.zeros((10, 2)), np.c_[np.zeros(8), np.arange(8.0)])
    assert result.p_value[0] == 1.0 and result.direction[0] == 0
    with pytest.raises(ValueError, match="same units"):
        stats.group_difference(np.zeros((10, 2)), np.zeros((10, 3)))


def test_session_fraction_is_the_beta_binomial_and_falls_back_to_wilson_for_one_session():
    k, n = np.array([3, 10, 0]), np.array([4, 20, 0])
    assert stats.session_fraction(k, n) == stats.beta_binomial(k, n)
    one = stats.session_fraction([38], [66])
    assert one.mean == pytest.approx(38 / 66) and one.n_sessions == 1 and np.isnan(one.rho)
    assert (one.low, one.high) == pytest.approx(stats.wilson(38, 66))
    # Wilson (1927), by its formula
    p, z, m = 38 / 66, 1.959964, 66
    centre = (p + z**2 / (2 * m)) / (1 + z**2 / m)
    half = z * np.sqrt(p * (1 - p) / m + z**2 / (4 * m**2)) / (1 + z**2 / m)
    assert stats.wilson(38, 66) == pytest.approx((centre - half, centre + half))

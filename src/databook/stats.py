"""The article's statistics policy, as functions: one test per question, one correction.

Every chapter that tests something calls these, so that the policy stated in the Methods
chapter is the one the code applies:

- responsiveness (excitation *or* suppression): :func:`paired_change`, a two-sided
  Wilcoxon signed-rank test on per-trial (response - baseline) values, then
  :func:`fdr` (Benjamini-Hochberg) over the units or cells of one session;
- a difference between two kinds of trial (e.g. lick-right vs lick-left):
  :func:`group_difference`, a two-sided Mann-Whitney U test per unit, then :func:`fdr`
  over the units of one session;
- a permutation (shuffle) test's p-value: :func:`permutation_p`, never 0, and
  :func:`format_p` to print it ("p < 1/1001", not "p = 0");
- a relation between two per-unit quantities: :func:`spearman` (rho with a 95 % interval
  and the smallest |rho| the test could detect at that n), so that "not significant" is
  reported as what it is;
- a fraction across sessions: :func:`between_sessions` (sessions, not units, are the
  observations) and :func:`beta_binomial` (the same question with a model of
  over-dispersion).

All functions take plain arrays and return arrays or small frozen dataclasses.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    import pandas

__all__ = [
    "POLICY",
    "BetaBinomial",
    "BetweenSessions",
    "GroupDifference",
    "PairedChange",
    "PolicyRow",
    "Spearman",
    "beta_binomial",
    "between_sessions",
    "detectable_rho",
    "fdr",
    "format_p",
    "group_difference",
    "paired_change",
    "permutation_p",
    "policy_table",
    "session_fraction",
    "spearman",
    "wilson",
]

#: The false-discovery rate the article controls, over the units (cells) of one session.
FDR_Q = 0.05


@dataclass(frozen=True)
class PolicyRow:
    """One line of the article's statistics policy (rendered in the Methods chapter).

    ``function`` is the dotted name (``module.function`` under ``databook``) that every
    chapter in ``chapters`` calls for ``question``; ``tests/test_stats_policy.py`` checks
    that they do.
    """

    question: str
    test: str
    function: str
    null: str
    sided: str
    family: str
    correction: str
    threshold: str
    why: str
    chapters: tuple[int, ...]


#: The policy: question -> test -> family corrected over -> threshold -> why -> chapters.
POLICY: tuple[PolicyRow, ...] = (
    PolicyRow(
        question="Does a unit or cell change its activity after a stimulus (up or down)?",
        test="Wilcoxon signed-rank on per-trial response - baseline",
        function="stats.paired_change",
        null="the per-trial difference is symmetric about zero",
        sided="two-sided: excitation and suppression are both findings; reported apart",
        family="the units (or cells, ROIs) of one session tested for this question",
        correction="Benjamini-Hochberg",
        threshold=f"q < {FDR_Q:g}",
        why="the result is a list of responsive units; FDR bounds the share of that list "
        "that is false, where Bonferroni would bound the chance of any error and lose "
        "weak responders as the session grows; ranks: counts and dF/F are not normal",
        chapters=(2, 3, 4),
    ),
    PolicyRow(
        question="Does a sparse spiking unit respond to flashes (up or down)?",
        test="exact conditional test of two Poisson counts (binomial), busiest and "
        "quietest sub-window against the baseline; plus the 5-SD rule of Siegle et al. "
        "(2021) for excitation",
        function="responses.unit_responses",
        null="equal Poisson rates in the sub-window and the baseline",
        sided="two-sided: both tails, reported as excited or suppressed",
        family="within a unit: its sub-windows and both tails (Bonferroni, which gives "
        "one valid p per unit); then the units of one session",
        correction="Bonferroni within the unit's scan, then Benjamini-Hochberg over units",
        threshold=f"q < {FDR_Q:g}",
        why="exact at the low counts of sparse units, where the 5-SD rule alone calls "
        "up to half of flat units responsive; the scan's own correction makes one p per "
        "unit, so BH over units sees one test per unit",
        chapters=(4, 10),
    ),
    PolicyRow(
        question="Does a unit's or cell's response differ between two kinds of trial?",
        test="Mann-Whitney U over trials",
        function="stats.group_difference",
        null="the two groups of trials come from one distribution",
        sided="two-sided: either preference is a finding",
        family="the units (cells) of one session tested for this question",
        correction="Benjamini-Hochberg",
        threshold=f"q < {FDR_Q:g}",
        why="as above: a list of modulated units; unpaired, because the trials differ",
        chapters=(3, 4),
    ),
    PolicyRow(
        question="Does a unit have a spatial receptive field?",
        test="shuffle (permutation) test of the map's chi-square against flat, position "
        "labels shuffled, p = (k + 1) / (n + 1)",
        function="stats.permutation_p",
        null="the response does not depend on the stimulus position",
        sided="one-sided by nature: the map's chi-square against flat must exceed the "
        "shuffles'; the statistic is blind to sign, so excitatory and suppressive fields "
        "are both found",
        family="the units of one session",
        correction="Benjamini-Hochberg",
        threshold=f"q < {FDR_Q:g}",
        why="a list of units with fields; the +1 keeps p above 0, so BH is applied to "
        "valid p-values and the smallest q is bounded by the number of shuffles",
        chapters=(5, 10),
    ),
    PolicyRow(
        question="Is a responsive cell orientation (direction) selective?",
        test="permutation test of the selectivity index, direction labels shuffled over "
        "trials, p = (k + 1) / (n + 1)",
        function="tuning.selectivity_p_value",
        null="the response does not depend on direction",
        sided="one-sided by nature: selectivity is an index above the shuffles'",
        family="the responsive cells of one session (selectivity of a cell that does not "
        "respond is noise)",
        correction="Benjamini-Hochberg",
        threshold=f"q < {FDR_Q:g}",
        why="a list of selective cells; testing only responsive cells keeps the family "
        "to cells where the index means something",
        chapters=(3,),
    ),
    PolicyRow(
        question="Is a unit light-driven (optotagged)?",
        test="SALT: first-spike latency distributions after light against baseline, "
        "Jensen-Shannon divergence against the baseline windows' own",
        function="opto.tag_units",
        null="the light-evoked latencies are distributed as the baseline ones",
        sided="one-sided by nature: a tagged unit fires earlier and more reliably after "
        "light than in baseline; a unit that does less is not tagged",
        family="the units of one session",
        correction="Benjamini-Hochberg",
        threshold=f"q < {FDR_Q:g}",
        why="the tagged units are a list; FDR bounds its share of untagged units. SALT's "
        "p is a count over baseline pairs, so the smallest q is m / ((n_pairs + 1) k) for "
        "k tagged units among m: chapter 6 states it",
        chapters=(6,),
    ),
    PolicyRow(
        question="Are a tagged unit's light-evoked spikes its own?",
        test="label shuffle of the correlation between the evoked and the spontaneous "
        "mean waveform, p = (k + 1) / (n + 1)",
        function="waveforms.similarity",
        null="the evoked spikes are a random subset of the unit's spikes (one shape)",
        sided="one-sided by nature: only a lower correlation than chance is evidence of "
        "foreign events",
        family="the units called tagged in one session",
        correction="Benjamini-Hochberg",
        threshold=f"q < {FDR_Q:g}",
        why="r alone depends on the noise and on the number of evoked spikes; the "
        "shuffles keep both, so p means the same for every unit",
        chapters=(6,),
    ),
    PolicyRow(
        question="Are two per-unit quantities related (e.g. latency and depth)?",
        test="Spearman rank correlation with a 95 % interval and the smallest |rho| "
        "detectable at 80 % power",
        function="stats.spearman",
        null="rho = 0",
        sided="two-sided",
        family="one test per question: none",
        correction="none (one test)",
        threshold="p < 0.05, with the interval and the detectable |rho|",
        why="one question, one test; the detectable |rho| keeps 'not significant' from "
        "reading as 'no relation'",
        chapters=(4, 5),
    ),
    PolicyRow(
        question="What fraction of units has a property, across sessions?",
        test="beta-binomial over sessions (one session: Wilson interval)",
        function="stats.session_fraction",
        null="none: an estimate with a 95 % interval",
        sided="interval",
        family="the sessions (sessions, not units, are the observations)",
        correction="none (an estimate)",
        threshold="95 % interval",
        why="units of one session share an animal, a probe and a day; pooling them as "
        "independent gives an interval that is too narrow",
        chapters=(4, 10),
    ),
)


def policy_table() -> pandas.DataFrame:
    """:data:`POLICY` as a table (one row per question), as the Methods chapter shows it."""
    import pandas as pd

    rows = [
        {
            "question": r.question,
            "test": r.test,
            "null": r.null,
            "sides": r.sided,
            "family corrected over": r.family,
            "correction": r.correction,
            "threshold": r.threshold,
            "why": r.why,
            "chapters": ", ".join(str(c) for c in r.chapters),
            "function": f"databook.{r.function}",
        }
        for r in POLICY
    ]
    return pd.DataFrame(rows).set_index("question")


def fdr(p_values: ArrayLike) -> NDArray[np.float64]:
    """Benjamini-Hochberg q-values of ``p_values`` (any shape; NaN stays NaN, untested).

    The family is whatever the caller passes: the article passes every unit (or cell) of
    one session that was tested for the same question.
    """
    from scipy.stats import false_discovery_control

    p = np.asarray(p_values, dtype=np.float64)
    if np.any((p < 0) | (p > 1)):
        raise ValueError(f"p-values must lie in [0, 1], got min {np.nanmin(p)}, max {np.nanmax(p)}")
    q = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    if finite.any():
        q[finite] = false_discovery_control(p[finite], method="bh")
    return q


@dataclass(frozen=True)
class PairedChange:
    """Per unit (arrays of shape (n_units,)): ``p_value`` (two-sided Wilcoxon signed-rank;
    1 where no trial differs), ``q_value`` (BH over the units passed), ``median_change``
    (median over trials of response - baseline, in the input's unit), ``direction``
    (+1 excited, -1 suppressed, 0 not significant at ``q``; the sign of the median change,
    or of the mean where the median is 0) and ``significant``."""

    p_value: NDArray[np.float64]
    q_value: NDArray[np.float64]
    median_change: NDArray[np.float64]
    direction: NDArray[np.int8]
    significant: NDArray[np.bool_]


def paired_change(response: ArrayLike, baseline: ArrayLike, *, q: float = FDR_Q) -> PairedChange:
    """Does each unit change between baseline and response, up or down?

    Parameters
    ----------
    response, baseline : (n_trials, n_units) arrays
        One value per trial and unit (spikes/s, spike counts or dF/F) in the response and
        the baseline window of the same trial. NaN trials are left out per unit.
    q : float
        False-discovery rate over the units (Benjamini-Hochberg).

    Returns
    -------
    PairedChange
        The two-sided test finds suppressed units as well as excited ones; ``direction``
        is the sign of the median change among significant units.
    """
    from scipy.stats import wilcoxon

    response = np.asarray(response, dtype=np.float64)
    baseline = np.asarray(baseline, dtype=np.float64)
    if response.shape != baseline.shape or response.ndim != 2:
        raise ValueError(
            "response and baseline must both be (n_trials, n_units), got shapes "
            f"{response.shape} and {baseline.shape}"
        )
    difference = response - baseline
    p = np.ones(difference.shape[1])
    testable = np.any(np.isfinite(difference) & (difference != 0), axis=0)
    if testable.any():
        p[testable] = wilcoxon(
            difference[:, testable], alternative="two-sided", axis=0, nan_policy="omit"
        ).pvalue
    p = np.where(np.isnan(p), 1.0, p)
    qv = fdr(p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a unit with no finite trial: NaN
        median = np.nanmedian(difference, axis=0)
        mean = np.nanmean(difference, axis=0)
    significant = qv < q
    # The sign of the median; where sparse counts make the median 0, that of the mean.
    sign = np.where(np.nan_to_num(median) != 0, np.sign(np.nan_to_num(median)), np.sign(
        np.nan_to_num(mean)))  # fmt: skip
    direction = np.where(significant, sign, 0).astype(np.int8)
    return PairedChange(p, qv, median, direction, significant)


@dataclass(frozen=True)
class GroupDifference:
    """Per unit (arrays of shape (n_units,)): ``p_value`` (two-sided Mann-Whitney U; 1
    where either group has no finite trial or all values are equal), ``q_value`` (BH over
    the units passed), ``median_difference`` (median of group a minus median of group b,
    in the input's unit), ``direction`` (+1 where a's values rank higher, -1 where b's
    do, 0 not significant at ``q``) and ``significant``."""

    p_value: NDArray[np.float64]
    q_value: NDArray[np.float64]
    median_difference: NDArray[np.float64]
    direction: NDArray[np.int8]
    significant: NDArray[np.bool_]


def group_difference(
    values_a: ArrayLike, values_b: ArrayLike, *, q: float = FDR_Q
) -> GroupDifference:
    """Does each unit's value differ between two kinds of trial?

    Parameters
    ----------
    values_a, values_b : (n_trials_a, n_units) and (n_trials_b, n_units) arrays
        One value per trial and unit (spikes/s, counts, dF/F) in the trials of each group;
        the trials are different trials, so the test is unpaired. NaN trials are left out
        per unit.
    q : float
        False-discovery rate over the units (Benjamini-Hochberg).

    Returns
    -------
    GroupDifference
        Rank-based and two-sided: no assumption of normal counts, and a unit preferring
        either group is found.
    """
    from scipy.stats import mannwhitneyu

    a = np.asarray(values_a, dtype=np.float64)
    b = np.asarray(values_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(
            "values_a and values_b must be (n_trials, n_units) with the same units, got "
            f"shapes {a.shape} and {b.shape}"
        )
    n_a = np.isfinite(a).sum(axis=0)
    n_b = np.isfinite(b).sum(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a unit with no finite trial: NaN
        median = np.nanmedian(a, axis=0) - np.nanmedian(b, axis=0)
        spread = np.nanmax(np.vstack([a, b]), axis=0) - np.nanmin(np.vstack([a, b]), axis=0)
    p = np.ones(a.shape[1])
    # U of group a above its null mean n_a * n_b / 2: a's values rank higher.
    rank_sign = np.zeros(a.shape[1])
    testable = (n_a > 0) & (n_b > 0) & (spread > 0)
    if testable.any():
        test = mannwhitneyu(
            a[:, testable], b[:, testable], alternative="two-sided", axis=0, nan_policy="omit"
        )
        p[testable] = test.pvalue
        rank_sign[testable] = np.sign(test.statistic - n_a[testable] * n_b[testable] / 2)
    p = np.where(np.isnan(p), 1.0, p)
    qv = fdr(p)
    significant = qv < q
    direction = np.where(significant, rank_sign, 0).astype(np.int8)
    return GroupDifference(p, qv, median, direction, significant)


def permutation_p(n_as_extreme: ArrayLike, n_permutations: int) -> NDArray[np.float64]:
    """p-value of a permutation test: ``(k + 1) / (n + 1)``.

    ``n_as_extreme`` (k) counts the permutations whose statistic was at least as extreme
    as the observed one. Counting the observed arrangement as one of the permutations
    keeps p above 0 (the smallest reportable value is ``1 / (n + 1)``) and makes the test
    exact (Phipson & Smyth 2010).
    """
    k = np.asarray(n_as_extreme)
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be at least 1, got {n_permutations}")
    if np.any((k < 0) | (k > n_permutations)):
        raise ValueError(f"n_as_extreme must lie in [0, {n_permutations}]")
    return (k + 1.0) / (n_permutations + 1.0)


def format_p(p: float, n_permutations: int | None = None, digits: int = 2) -> str:
    """``p`` as prose: "p = 0.013", "p < 0.001", or "p < 1/1001" at a permutation floor."""
    if not math.isfinite(p):
        return "p not computed"
    if n_permutations is not None and p <= 1.0 / (n_permutations + 1.0) * (1 + 1e-9):
        return (
            f"p < 1/{n_permutations + 1}"
            if p < 1.0 / (n_permutations + 1.0)
            else (f"p = 1/{n_permutations + 1} (the smallest possible)")
        )
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.{digits}g}"


@dataclass(frozen=True)
class Spearman:
    """``rho`` with its 95 % interval ``low``, ``high`` (Fisher z, Bonett-Wright variance),
    ``p_value`` (two-sided), ``n`` and ``detectable`` (the smallest |rho| the test detects
    with 80 % power at this n and alpha 0.05)."""

    rho: float
    low: float
    high: float
    p_value: float
    n: int
    detectable: float

    def describe(self) -> str:
        """One sentence that never reads absence of evidence as evidence of absence."""
        interval = f"rho {self.rho:.2f}, 95 % CI {self.low:.2f} to {self.high:.2f}, n {self.n}"
        if self.p_value < 0.05:
            return f"detected ({interval}, {format_p(self.p_value)})"
        return (
            f"not detected ({interval}, {format_p(self.p_value)}); at this n the test "
            f"detects |rho| >= {self.detectable:.2f} with 80 % power"
        )


def detectable_rho(n: int, *, power: float = 0.8, alpha: float = 0.05) -> float:
    """Smallest |rho| a two-sided correlation test detects with ``power`` at ``n``.

    Fisher's z approximation: ``atanh(rho) * sqrt(n - 3) = z(1 - alpha/2) + z(power)``.
    """
    from scipy.stats import norm

    if n < 4:
        return float("nan")
    z = (norm.ppf(1 - alpha / 2) + norm.ppf(power)) / math.sqrt(n - 3)
    return float(math.tanh(z))


def spearman(x: ArrayLike, y: ArrayLike) -> Spearman:
    """Spearman rank correlation of paired values (NaN pairs dropped), with its interval."""
    from scipy.stats import norm, spearmanr

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of one length, got {x.shape} and {y.shape}")
    keep = np.isfinite(x) & np.isfinite(y)
    n = int(keep.sum())
    if n < 4:
        raise ValueError(f"a correlation needs at least 4 complete pairs, got {n}")
    result = spearmanr(x[keep], y[keep])
    rho = float(result.statistic)
    # Bonett & Wright (2000): var(atanh(rho_s)) ~ (1 + rho^2 / 2) / (n - 3).
    se = math.sqrt((1 + rho**2 / 2) / (n - 3))
    z = math.atanh(max(min(rho, 0.999999), -0.999999))
    half = norm.ppf(0.975) * se
    return Spearman(
        rho=rho,
        low=math.tanh(z - half),
        high=math.tanh(z + half),
        p_value=float(result.pvalue),
        n=n,
        detectable=detectable_rho(n),
    )


@dataclass(frozen=True)
class BetweenSessions:
    """A per-session fraction summarised over sessions: ``mean`` of the session fractions,
    its 95 % t-interval ``low``, ``high`` (n - 1 degrees of freedom), ``sd`` between
    sessions, ``n_sessions`` and the sessions' own ``fractions``."""

    mean: float
    low: float
    high: float
    sd: float
    n_sessions: int
    fractions: NDArray[np.float64]


def between_sessions(k: ArrayLike, n: ArrayLike) -> BetweenSessions:
    """The fraction ``k / n`` of each session (e.g. selective units / units), summarised
    with sessions as the observations.

    Units of one session share an animal, a probe and a day: pooling their counts over
    sessions treats them as independent and gives an interval that is too narrow. Here
    each session contributes one fraction and the interval is a t-interval over
    sessions (it assumes the session fractions are a sample from one distribution, roughly
    normal; see :func:`beta_binomial` for a model-based alternative). Sessions with
    ``n == 0`` are left out.
    """
    from scipy.stats import t

    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    if k.shape != n.shape or k.ndim != 1:
        raise ValueError(f"k and n must be 1-D of one length, got {k.shape} and {n.shape}")
    if np.any((k < 0) | (k > n)):
        raise ValueError("every k must lie in [0, n]")
    use = n > 0
    fractions = k[use] / n[use]
    m = fractions.size
    if m == 0:
        raise ValueError("no session has any unit (n > 0)")
    mean = float(fractions.mean())
    if m == 1:
        return BetweenSessions(mean, float("nan"), float("nan"), float("nan"), 1, fractions)
    sd = float(fractions.std(ddof=1))
    half = float(t.ppf(0.975, m - 1) * sd / math.sqrt(m))
    return BetweenSessions(mean, mean - half, mean + half, sd, m, fractions)


@dataclass(frozen=True)
class BetaBinomial:
    """Maximum-likelihood beta-binomial fit of per-session counts: ``mean`` (alpha /
    (alpha + beta)), its 95 % profile-likelihood interval ``low``, ``high``, and the
    intra-session correlation ``rho`` = 1 / (alpha + beta + 1) (0: binomial, units
    independent; larger: sessions differ more than binomial noise)."""

    mean: float
    low: float
    high: float
    rho: float
    n_sessions: int


def beta_binomial(k: ArrayLike, n: ArrayLike) -> BetaBinomial:
    """Fit a beta-binomial to per-session counts ``k`` of ``n`` (sessions with n > 0).

    Each session's true fraction is drawn from a beta distribution; its units are then
    binomial given that fraction. The mean of the beta is the between-session fraction,
    and its interval accounts for both the number of units and the spread of sessions.
    """
    from scipy.optimize import minimize, minimize_scalar
    from scipy.special import betaln
    from scipy.stats import chi2

    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    use = n > 0
    k, n = k[use], n[use]
    if k.size < 2:
        raise ValueError("a beta-binomial needs at least 2 sessions with units")

    def nll(mu: float, log_s: float) -> float:
        s = math.exp(log_s)
        a, b = mu * s, (1 - mu) * s
        return float(-(betaln(k + a, n - k + b) - betaln(a, b)).sum())

    eps = 1e-6
    start = np.clip(k.sum() / n.sum(), 0.01, 0.99)
    fit = minimize(
        lambda v: nll(float(np.clip(v[0], eps, 1 - eps)), float(v[1])),
        x0=[start, math.log(10.0)],
        method="Nelder-Mead",
        options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 4000},
    )
    mu_hat = float(np.clip(fit.x[0], eps, 1 - eps))
    best = float(fit.fun)
    limit = chi2.ppf(0.95, 1) / 2

    def profile(mu: float) -> float:
        inner = minimize_scalar(lambda ls: nll(mu, ls), bounds=(-5, 15), method="bounded")
        return float(inner.fun) - best - limit

    def root(lo: float, hi: float) -> float:
        from scipy.optimize import brentq

        if profile(lo) * profile(hi) > 0:
            return lo
        return float(brentq(profile, lo, hi, xtol=1e-6))

    low = root(eps, mu_hat) if mu_hat > eps else 0.0
    high = root(1 - eps, mu_hat) if mu_hat < 1 - eps else 1.0
    s_hat = math.exp(float(fit.x[1]))
    return BetaBinomial(mu_hat, low, high, 1.0 / (s_hat + 1.0), int(k.size))


def wilson(k: int, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of one binomial fraction ``k / n`` (scipy's ``binomtest``).

    Right for units of *one* session; pooling units over sessions and calling this treats
    them as independent (see :func:`between_sessions`).
    """
    from scipy.stats import binomtest

    if not 0 <= k <= n or n == 0:
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def session_fraction(k: ArrayLike, n: ArrayLike) -> BetaBinomial:
    """The article's estimate of a fraction across sessions: :func:`beta_binomial` over
    the sessions with units; with only one such session, that session's fraction and its
    :func:`wilson` interval (``rho`` NaN: between-session spread cannot be estimated)."""
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    use = n > 0
    if use.sum() >= 2:
        return beta_binomial(k, n)
    if use.sum() == 0:
        raise ValueError("no session has any unit (n > 0)")
    k1, n1 = int(k[use][0]), int(n[use][0])
    low, high = wilson(k1, n1)
    return BetaBinomial(k1 / n1, low, high, float("nan"), 1)

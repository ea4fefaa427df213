"""The course's one statistics rule: a paired bootstrap 95% interval decides "better", "worse" or "no clear difference".

Two methods scored on the same samples (the same photos and holes) give paired scores ``a_i`` and ``b_i``. The mean
difference ``d = mean(a_i - b_i)`` says which was ahead on these samples; whether that would hold on other samples of
the same kind is what the interval says. Resample the *pairs* with replacement ``R`` times (Efron & Tibshirani 1993,
the percentile bootstrap), take the mean difference of each resample, and read the 2.5th and 97.5th percentiles:

    d*_r = mean_{i in resample r} (a_i - b_i),   CI_95 = [percentile_2.5(d*), percentile_97.5(d*)]

"better" when the whole interval is above 0 (below 0 for a lower-is-better metric such as L1), "worse" when it is
on the other side, and "no clear difference" when it contains 0. No hand-picked margin (0.05 dB, 0.3 dB, ...) is
used anywhere: with 6 samples a gap of 0.3 dB is often noise, with 500 a gap of 0.05 dB may not be. Pairing matters:
two methods' scores on one photo move together (an easy photo is easy for both), and the paired interval is much
narrower than one built from the two means separately.

The resamples are drawn from a seeded generator, so the interval is the same on every run and machine.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, NamedTuple, Sequence

import numpy as np

from .errors import UsageError

__all__ = ["PairedComparison", "paired_bootstrap", "compare_methods", "format_comparison", "VERDICTS"]

#: The three verdicts of the rule, for a metric where higher is better (lower-is-better metrics are flipped).
VERDICTS = ("better", "worse", "no clear difference")


class PairedComparison(NamedTuple):
    """``mean`` = mean of ``a - b``; ``low``/``high`` = the bootstrap interval of that mean; ``n`` pairs."""

    mean: float
    low: float
    high: float
    n: int
    verdict: str
    confidence: float = 0.95


def paired_bootstrap(a: Sequence[float], b: Sequence[float], higher_is_better: bool = True,
                     resamples: int = 10_000, confidence: float = 0.95, seed: int = 0) -> PairedComparison:
    """Compare paired scores ``a`` and ``b`` (same samples, same order) by the rule above.

    Returns the mean of ``a - b``, its percentile-bootstrap interval at ``confidence`` and the verdict for ``a``
    against ``b``: "better", "worse" or "no clear difference". At least 2 pairs are required (one pair has no
    spread to resample).
    """
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise UsageError(f"paired_bootstrap: {x.size} scores against {y.size}: the samples must be paired")
    if x.size < 2:
        raise UsageError(f"paired_bootstrap: {x.size} pair(s); at least 2 are needed for an interval")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise UsageError("paired_bootstrap: a score is NaN or infinite (e.g. the PSNR of a perfect fill); "
                         "compare finite scores")
    if not 0 < confidence < 1:
        raise UsageError(f"paired_bootstrap: confidence={confidence!r} must be in (0, 1)")
    if not (isinstance(resamples, int) and resamples >= 100):
        raise UsageError(f"paired_bootstrap: resamples={resamples!r} must be an int >= 100")
    d = x - y
    rng = np.random.default_rng(seed)
    # (R, n) indices of the pairs in each resample -> R means, in chunks to bound memory
    means = np.empty(resamples)
    chunk = max(1, 2_000_000 // d.size)
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        means[start:stop] = d[rng.integers(0, d.size, size=(stop - start, d.size))].mean(axis=1)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = (float(v) for v in np.percentile(means, [tail, 100.0 - tail]))
    ahead, behind = (low > 0, high < 0) if higher_is_better else (high < 0, low > 0)
    verdict = "better" if ahead else "worse" if behind else "no clear difference"
    return PairedComparison(float(d.mean()), low, high, int(d.size), verdict, confidence)


def compare_methods(rows: Iterable[Mapping[str, Any]], method: str, baseline: str, metric: str,
                    higher_is_better: bool = True, by: str | None = "bucket", **kwargs: Any
                    ) -> dict[str, PairedComparison]:
    """Paired comparisons of ``method`` against ``baseline`` on ``metric`` from per-sample rows.

    ``rows``: dicts with ``method``, the metric, and the keys that name a sample (``photo``, ``bucket``, ``k``,
    as :func:`edgeconnect_lib.evaluation.score_methods` writes them); samples are paired by those keys. Returns one
    comparison per value of ``by`` (e.g. per hole-size bucket) and ``"all"``; ``by=None`` gives ``"all"`` only.
    ``kwargs`` go to :func:`paired_bootstrap`.
    """
    def key(r: Mapping[str, Any]) -> tuple:
        return tuple(r.get(k) for k in ("photo", "bucket", "k", "sample") if k in r)

    rows = list(rows)
    mine = {key(r): r for r in rows if r["method"] == method}
    theirs = {key(r): r for r in rows if r["method"] == baseline}
    if not mine or not theirs:
        missing = [m for m, got in ((method, mine), (baseline, theirs)) if not got]
        raise UsageError(f"compare_methods: no rows of {', '.join(missing)}")
    common = [k for k in mine if k in theirs]
    if len(common) != len(mine) or len(common) != len(theirs):
        raise UsageError(f"compare_methods: {method} and {baseline} were not scored on the same samples "
                         f"({len(mine)} and {len(theirs)} rows, {len(common)} in common)")
    groups: dict[str, list[tuple]] = {}
    if by is not None:
        for k in common:
            groups.setdefault(str(mine[k][by]), []).append(k)
    groups["all"] = common
    return {g: paired_bootstrap([mine[k][metric] for k in ks], [theirs[k][metric] for k in ks],
                                higher_is_better, **kwargs) for g, ks in groups.items()}


def format_comparison(c: PairedComparison, unit: str = "", digits: int = 2) -> str:
    """``+0.27 dB [95% CI -0.10, +0.61] -> no clear difference`` (the interval printed beside every verdict)."""
    u = f" {unit}" if unit else ""
    f = f"{{:+.{digits}f}}"
    return (f"{f.format(c.mean)}{u} [{c.confidence:.0%} CI {f.format(c.low)}, {f.format(c.high)}] -> {c.verdict}")

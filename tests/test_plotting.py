"""plotting.plot_differences: bars of the difference to a baseline with their 95% intervals."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from edgeconnect_lib.bootstrap import compare_methods  # noqa: E402
from edgeconnect_lib.plotting import plot_differences  # noqa: E402


def _rows():
    rng = np.random.default_rng(0)
    rows = []
    for method, shift in (("telea", 0.0), ("ours", -1.0), ("ns", 0.05)):
        for i in range(12):
            rows.append({"method": method, "photo": f"p{i % 6}", "bucket": ("10-20%", "20-30%")[i // 6], "k": 0,
                         "psnr": 20.0 + shift + 0.1 * i + rng.normal(0, 0.2)})
    return rows


def test_plot_differences_draws_one_bar_per_method_and_bucket_with_its_interval():
    import matplotlib.pyplot as plt

    rows = _rows()
    found = {m: compare_methods(rows, m, "telea", "psnr") for m in ("ours", "ns")}
    fig = plot_differences(found, "telea")
    ax = fig.axes[0]
    bars = [p for p in ax.patches]
    assert len(bars) == 2 * 3  # 2 methods x (2 buckets + all)
    heights = sorted(round(b.get_height(), 6) for b in bars)
    expected = sorted(round(c.mean, 6) for f in found.values() for c in f.values())
    assert heights == expected, "the bars are the mean differences, not the scores"
    assert all(h < 0 for h in [b.get_height() for b in bars[:3]]), "ours is below telea: bars under the zero line"
    # the error bars span the intervals
    caps = [line for line in ax.lines if len(line.get_xdata()) > 0]
    ys = np.concatenate([np.asarray(line.get_ydata(), float) for line in caps])
    for c in found["ours"].values():
        assert np.isclose(ys, c.low).any() and np.isclose(ys, c.high).any()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["10-20%", "20-30%", "all"]
    plt.close(fig)


def test_plot_differences_refuses_missing_buckets_and_empty_input():
    rows = _rows()
    found = {"ours": compare_methods(rows, "ours", "telea", "psnr"), "ns": compare_methods(rows, "ns", "telea", "psnr", by=None)}
    with pytest.raises(ValueError, match="no comparison for 'ns'"):
        plot_differences(found, "telea")
    with pytest.raises(ValueError, match="no comparisons"):
        plot_differences({}, "telea")

"""bootstrap.py: the one statistics rule (paired bootstrap 95% interval -> better / worse / no clear difference)."""
from __future__ import annotations

import numpy as np
import pytest

from edgeconnect_lib.bootstrap import compare_methods, format_comparison, paired_bootstrap


def test_a_clear_shift_is_better_and_its_mirror_worse():
    rng = np.random.default_rng(1)
    base = rng.normal(20, 3, 40)  # per-photo difficulty, shared by both methods
    ours = base + 0.5 + rng.normal(0, 0.2, 40)
    c = paired_bootstrap(ours, base)
    assert c.verdict == "better" and 0 < c.low < c.mean < c.high and c.n == 40
    assert paired_bootstrap(base, ours).verdict == "worse"
    # lower is better (L1): a higher L1 is worse
    assert paired_bootstrap(ours, base, higher_is_better=False).verdict == "worse"


def test_pairing_finds_what_unpaired_means_cannot():
    """The same 0.3 gap: clear when paired (photos shared), lost in the photos' spread when the pairs are broken."""
    rng = np.random.default_rng(2)
    base = rng.normal(20, 3, 30)
    ours = base + 0.3 + rng.normal(0, 0.1, 30)
    assert paired_bootstrap(ours, base).verdict == "better"
    assert paired_bootstrap(ours, rng.permutation(base)).verdict == "no clear difference"


def test_noise_and_identical_scores_are_no_clear_difference():
    rng = np.random.default_rng(3)
    a = rng.normal(0, 1, 12)
    assert paired_bootstrap(a, a).verdict == "no clear difference"
    assert paired_bootstrap(a, a).low == 0.0 == paired_bootstrap(a, a).high
    # six samples with a small mean gap and a large spread: no verdict either way
    six = paired_bootstrap([20.1, 18.0, 22.5, 19.0, 21.2, 17.3], [20.3, 17.2, 22.0, 19.9, 20.6, 17.4])
    assert six.verdict == "no clear difference" and six.low < 0 < six.high


def test_deterministic_and_checked():
    a, b = [1.0, 2.0, 3.5, 4.0], [0.5, 2.5, 3.0, 3.0]
    assert paired_bootstrap(a, b) == paired_bootstrap(a, b)
    with pytest.raises(ValueError, match="paired"):
        paired_bootstrap([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="at least 2"):
        paired_bootstrap([1.0], [0.0])
    with pytest.raises(ValueError, match="NaN or infinite"):
        paired_bootstrap([1.0, float("inf")], [0.0, 1.0])


def test_compare_methods_pairs_rows_by_sample_and_bucket():
    rows = []
    rng = np.random.default_rng(4)
    for photo in range(8):
        for bucket in ("10-20%", "50-60%"):
            difficulty = rng.normal(20, 2)
            gap = 1.0 if bucket == "10-20%" else 0.0
            rows.append({"method": "ours", "photo": f"p{photo}", "bucket": bucket, "k": 0,
                         "psnr": difficulty + gap + rng.normal(0, 0.1)})
            rows.append({"method": "telea", "photo": f"p{photo}", "bucket": bucket, "k": 0,
                         "psnr": difficulty + rng.normal(0, 0.1)})
    result = compare_methods(rows, "ours", "telea", "psnr")
    assert set(result) == {"10-20%", "50-60%", "all"} and result["all"].n == 16
    assert result["10-20%"].verdict == "better" and result["50-60%"].verdict == "no clear difference"
    line = format_comparison(result["10-20%"], "dB")
    assert line.startswith("+1.0") and "[95% CI +" in line and line.endswith("-> better")
    with pytest.raises(ValueError, match="same samples"):
        compare_methods(rows[:-1], "ours", "telea", "psnr")

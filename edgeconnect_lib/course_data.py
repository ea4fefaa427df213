"""Where the course's own files live: photos, masks and checkpoints under ``data/``.

The photos are split once, by image, into ``train`` / ``val`` / ``test`` in
``data/splits.json``; the test photos are never trained on. Set the environment
variable ``EDGECONNECT_DATA`` to use a copy of ``data/`` elsewhere.
"""
from __future__ import annotations

import json
from pathlib import Path

from . import settings
from .errors import UsageError

__all__ = ["data_dir", "course_images", "course_masks", "SPLITS"]

SPLITS = ("train", "val", "test")


def data_dir() -> Path:
    """The course's ``data/`` folder (``$EDGECONNECT_DATA`` if set)."""
    root = settings.data_dir() or Path(__file__).resolve().parent.parent / "data"
    if not root.is_dir():
        raise FileNotFoundError(
            f"course data folder not found: {root}. Install the course with `pip install -e .` from a "
            "clone of the repository (the photos live in its data/ folder), or set EDGECONNECT_DATA."
        )
    return root


def course_images(split: str = "all") -> list[Path]:
    """Paths of the course photos in ``split`` (``train``, ``val``, ``test`` or ``all``), sorted."""
    if split not in SPLITS + ("all",):
        raise UsageError(f"split={split!r}: choose one of {SPLITS + ('all',)}")
    root = data_dir()
    splits_file = root / "splits.json"
    if not splits_file.is_file():
        raise FileNotFoundError(f"{splits_file} is missing: it lists which photo is in which split")
    splits = json.loads(splits_file.read_text())
    names = [n for s in SPLITS for n in splits[s]] if split == "all" else list(splits[split])
    paths = [root / "images" / n for n in names]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"photos listed in {splits_file} are missing: {missing[:5]}")
    return paths


def course_masks() -> list[Path]:
    """Paths of the mask files shipped in ``data/masks`` (PNG, non-zero = hole), sorted."""
    return sorted((data_dir() / "masks").glob("*.png"))

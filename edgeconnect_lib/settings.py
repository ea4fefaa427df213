"""Every setting the library reads from the environment, in one place: the ``EDGECONNECT_*`` variables.

=============================  ====================================================================================
variable                       what it does
=============================  ====================================================================================
``EDGECONNECT_DATA``           the course's ``data/`` folder, when it is not the repository's (``course_data``)
``EDGECONNECT_OFFLINE``        ``1`` / ``true`` / ``yes``: never touch the network (no VGG19 or checkpoint download)
``EDGECONNECT_VGG19_WEIGHTS``  a local torchvision VGG19 weights file for the perceptual and style losses (``vgg``)
``EDGECONNECT_INCEPTION``      NVIDIA's TorchScript Inception file; FID is computed only with it (``evaluation``)
``EDGECONNECT_CACHE``          where ``download authors`` unpacks the authors' checkpoints (``weights``)
``EDGECONNECT_WEIGHTS_URL``    a mirror serving the weight files, instead of their home sites (``weights``)
``EDGECONNECT_CORPUS``         the cache of the photo corpus the course data is built from (``corpus``)
=============================  ====================================================================================

Each is read when it is needed (a test or a lesson may set it between two calls), by the function of its name;
an unset or empty variable means "not set". Nothing else in the library reads ``os.environ`` for these.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "DATA", "OFFLINE", "VGG19_WEIGHTS", "INCEPTION", "CACHE", "WEIGHTS_URL", "CORPUS", "VARIABLES",
    "data_dir", "offline", "vgg19_weights", "inception_file", "authors_cache", "weights_base_url", "corpus_cache",
]

DATA = "EDGECONNECT_DATA"
OFFLINE = "EDGECONNECT_OFFLINE"
VGG19_WEIGHTS = "EDGECONNECT_VGG19_WEIGHTS"
INCEPTION = "EDGECONNECT_INCEPTION"
CACHE = "EDGECONNECT_CACHE"
WEIGHTS_URL = "EDGECONNECT_WEIGHTS_URL"
CORPUS = "EDGECONNECT_CORPUS"

#: Every variable and what it does (the table above, for ``--help`` texts and tests).
VARIABLES: dict[str, str] = {
    DATA: "the course's data/ folder, when it is not the repository's",
    OFFLINE: "1 / true / yes: never touch the network (no VGG19 or checkpoint download)",
    VGG19_WEIGHTS: "a local torchvision VGG19 weights file for the perceptual and style losses",
    INCEPTION: "NVIDIA's TorchScript Inception file; FID is computed only with it",
    CACHE: "where 'download authors' unpacks the authors' checkpoints",
    WEIGHTS_URL: "a mirror serving the weight files, instead of their home sites",
    CORPUS: "the cache of the photo corpus the course data is built from",
}

#: The values of ``EDGECONNECT_OFFLINE`` that switch the network off (case and spaces ignored).
TRUE_WORDS = ("1", "true", "yes")


def _text(name: str) -> str:
    return os.environ.get(name, "").strip()


def _path(name: str) -> Path | None:
    text = _text(name)
    return Path(text).expanduser() if text else None


def data_dir() -> Path | None:
    """``$EDGECONNECT_DATA`` as a path, or ``None``."""
    return _path(DATA)


def offline() -> bool:
    """Whether ``$EDGECONNECT_OFFLINE`` is 1 / true / yes: no download of any kind."""
    return _text(OFFLINE).lower() in TRUE_WORDS


def vgg19_weights() -> Path | None:
    """``$EDGECONNECT_VGG19_WEIGHTS`` as a path, or ``None`` (set but empty: ``None`` too)."""
    return _path(VGG19_WEIGHTS)


def inception_file() -> Path | None:
    """``$EDGECONNECT_INCEPTION`` as a path, or ``None``."""
    return _path(INCEPTION)


def authors_cache() -> Path | None:
    """``$EDGECONNECT_CACHE`` as a path, or ``None``."""
    return _path(CACHE)


def weights_base_url() -> str:
    """``$EDGECONNECT_WEIGHTS_URL`` (a mirror's base address), or ``""``."""
    return _text(WEIGHTS_URL)


def corpus_cache() -> Path | None:
    """``$EDGECONNECT_CORPUS`` as a path, or ``None``."""
    return _path(CORPUS)

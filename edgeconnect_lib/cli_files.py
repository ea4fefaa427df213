"""The command line's files: one guard that every verb uses for what it reads and what it writes.

* :func:`resolve` makes every path absolute with symlinks and ``..`` resolved, so that two names of one file are
  seen as one file;
* :class:`FileGuard` collects a command's inputs (files and folders it reads), its training-data folders (read
  recursively, so anything written inside them would be read back as data) and its outputs, and refuses with a
  :class:`CliError` an output that is an input, lies inside a training-data folder, or is another output of the
  same command, before anything is written;
* :func:`write_bytes`, :func:`write_text` and :func:`write_image` write atomically
  (:func:`edgeconnect_lib.checkpoints.atomic_write`: a temporary file, fsync, rename; a folder, a path under a
  file or a read-only file is refused first);
* :func:`error_line` and :func:`describe_os_error` make the one ``error:`` line of a failure (the path, the cause
  and what to do).

Exit codes (``python -m edgeconnect_lib``): 2 for a usage error (:class:`CliError`, ``ValueError``, a missing
input), 1 for a failure of the system (disk full, read-only filesystem, no permission) or a diverged run.
"""
from __future__ import annotations

import errno
import io
import os
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .checkpoints import atomic_write
from .images import LOSSY_EXTENSIONS, to_uint8

__all__ = [
    "CliError",
    "FileWriteError",
    "FileGuard",
    "resolve",
    "is_within",
    "write_bytes",
    "write_text",
    "write_image",
    "encode_image",
    "check_image_array",
    "describe_os_error",
    "error_line",
]


class CliError(Exception):
    """A usage error: printed as one line, exit status 2."""


class FileWriteError(OSError):
    """An ``OSError`` whose message is one clear line: the path, the cause and what to do (``str(err)``)."""

    def __init__(self, err: OSError, what: str | None = None) -> None:
        super().__init__(err.errno, err.strerror or error_line(err), err.filename)
        self.line = (f"cannot save {what}: " if what else "") + describe_os_error(err)

    def __str__(self) -> str:
        return self.line


#: What to do about an OS-level failure, by errno.
OS_HINTS = {
    errno.ENOSPC: "the disk is full: free some space or write to another disk",
    errno.EDQUOT: "the disk quota is used up: free some space or write to another disk",
    errno.EROFS: "the filesystem is read-only: write to another folder",
    errno.EACCES: "no permission: check the permissions of the file and its folder, or write elsewhere",
    errno.EPERM: "not permitted: check the permissions of the file and its folder, or write elsewhere",
    errno.ENOTDIR: "give a path whose folders are folders",
}


def error_line(err: BaseException) -> str:
    """The first line of an exception's message (its type's name when it has none)."""
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def describe_os_error(err: OSError) -> str:
    """One line for an ``OSError``: the path, the cause and what to do (``/x/a.pt: No space left ... (...)``)."""
    if isinstance(err, FileWriteError):
        return err.line
    cause = err.strerror or error_line(err)
    where = os.fspath(err.filename) if err.filename is not None else None
    if where is not None and err.filename2 is not None:
        where += f" -> {os.fspath(err.filename2)}"
    hint = OS_HINTS.get(err.errno)
    if err.errno is not None and not cause.startswith(os.strerror(err.errno)):  # our own cause: says what to do
        hint = None
    return (f"{where}: {cause}" if where else cause) + (f" ({hint})" if hint else "")


# --------------------------------------------------------------------------------------------------------
# paths
# --------------------------------------------------------------------------------------------------------
def resolve(path: str | os.PathLike) -> Path:
    """``path`` absolute, ``~`` expanded, symlinks and ``..`` resolved (the path need not exist)."""
    return Path(os.path.expanduser(os.fspath(path))).resolve()


def is_within(path: str | os.PathLike, folder: str | os.PathLike) -> bool:
    """Whether ``path`` is ``folder`` or lies under it (both resolved)."""
    p, f = resolve(path), resolve(folder)
    return p == f or f in p.parents


class FileGuard:
    """The files of one command, checked before anything is written.

    ``add_input(option, path)``: a file or folder the command reads; ``add_data_folder(option, folder)``: a
    folder of training data (read recursively); ``add_output(option, path)``: a file or folder it writes. An
    output equal to an input, inside a data folder, or equal to another output raises :class:`CliError`.
    """

    def __init__(self) -> None:
        self.inputs: dict[Path, str] = {}
        self.data_folders: dict[Path, tuple[str, bool]] = {}
        self.outputs: dict[Path, str] = {}

    def add_input(self, option: str, *paths: str | os.PathLike | None) -> None:
        for path in paths:
            if path is not None:
                self.inputs.setdefault(resolve(path), option)

    def add_inputs(self, option: str, paths: Iterable[str | os.PathLike]) -> None:
        self.add_input(option, *paths)

    def add_data_folder(self, option: str, folder: str | os.PathLike, recursive: bool = True) -> None:
        """A folder of training data: no output may be it, nor (``recursive``: its files are listed with their
        subfolders') lie under it."""
        self.data_folders.setdefault(resolve(folder), (option, recursive))

    def add_output(self, option: str, path: str | os.PathLike) -> Path:
        """Check and record an output file or folder; returns it resolved."""
        p = resolve(path)
        shown = f"{option} {path}"
        if p in self.inputs:
            what = "folder" if p.is_dir() else "file"
            raise CliError(f"{shown} is the input {what} of {self.inputs[p]} ({p}): an output never replaces or "
                           f"mixes with an input; choose another {option}")
        for data, (data_option, recursive) in self.data_folders.items():
            if p == data or (recursive and data in p.parents):
                raise CliError(f"{shown} is inside the training data folder {data} ({data_option}): what is written "
                               "there would be read as training photos next time; choose a folder outside it")
        if p in self.outputs:
            raise CliError(f"{shown} is also the output of {self.outputs[p]}: two outputs of one command cannot "
                           "be one file; give different names")
        self.outputs[p] = option
        return p


# --------------------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------------------
def _write(path: Path, write, what: str | None) -> Path:
    try:
        return atomic_write(path, write)
    except OSError as err:
        raise FileWriteError(err, what) from err


def write_bytes(path: str | os.PathLike, data: bytes | Callable[[], bytes], what: str | None = None) -> Path:
    """Write ``data`` to ``path`` atomically; a failure raises :class:`FileWriteError` (one clear line).
    ``data`` may be a function returning the bytes (an encoder): its failure is reported with the path too."""
    return _write(Path(path), lambda f: f.write(data() if callable(data) else data), what)


def write_text(path: str | os.PathLike, text: str, what: str | None = None) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; a failure raises :class:`FileWriteError`."""
    return write_bytes(path, text.encode("utf-8"), what)


def check_image_array(image: np.ndarray, what: str = "image") -> np.ndarray:
    """``image`` as 8-bit levels, ``H x W`` (grey) or ``H x W x 3``: a ``uint8`` array as it is, a bool map as
    0 / 255, floats in [0, 1] rounded (small overshoots clipped). ``ValueError`` for NaN or infinite values, a
    float image far outside [0, 1] (0..255 floats: divide by 255) and any other shape or dtype."""
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] == 3)) or arr.size == 0:
        raise ValueError(f"{what} must be H x W (grey) or H x W x 3 (RGB), got shape {arr.shape}")
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"{what} has dtype {arr.dtype}: give floats in [0, 1] or uint8 levels 0..255")
    bad = int(np.count_nonzero(~np.isfinite(arr)))
    if bad:
        raise ValueError(f"{what} has {bad} NaN or infinite value(s): it would be written as wrong pixels; fix the "
                         "computation that made it (or np.nan_to_num it on purpose)")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < -0.5 or hi > 1.5:
        raise ValueError(f"{what} has values from {lo:g} to {hi:g}: a float image must be in [0, 1] (divide 8-bit "
                         "levels by 255, or pass a uint8 array)")
    return to_uint8(arr)


def encode_image(levels: np.ndarray, suffix: str) -> bytes:
    """Encode 8-bit ``levels`` (``H x W`` or ``H x W x 3``) in the format of ``suffix`` (``.png``, ``.jpg``, ...).
    JPEG and WebP are written at quality 95."""
    from PIL import Image

    fmt = Image.registered_extensions().get(suffix.lower())
    if fmt is None:
        raise ValueError(f"{suffix!r} is not an image file ending Pillow can write")
    buf = io.BytesIO()
    extra = {"quality": 95} if suffix.lower() in LOSSY_EXTENSIONS else {}
    Image.fromarray(np.ascontiguousarray(levels)).save(buf, format=fmt, **extra)
    return buf.getvalue()


def write_image(image: np.ndarray, path: str | os.PathLike, known: np.ndarray | None = None,
                what: str | None = None) -> int | None:
    """Write an image (see :func:`check_image_array`) to ``path`` atomically, in the format of its ending.

    For a lossy format (:data:`~edgeconnect_lib.images.LOSSY_EXTENSIONS`) returns the largest change, in 8-bit
    levels, that the encoding makes to the pixels where ``known`` is True (all pixels when ``known`` is None), as
    read back from the encoded bytes; ``None`` for a lossless format."""
    from PIL import Image

    path = Path(path)
    levels = check_image_array(image, what or "image")
    encoded: list[bytes] = []
    write_bytes(path, lambda: encoded.append(encode_image(levels, path.suffix)) or encoded[0], what)
    change = None
    if path.suffix.lower() in LOSSY_EXTENSIONS:
        with Image.open(io.BytesIO(encoded[0])) as im:
            back = np.asarray(im.convert("L" if levels.ndim == 2 else "RGB"), dtype=np.int16)
        diff = np.abs(back - levels.astype(np.int16))
        if diff.ndim == 3:
            diff = diff.max(axis=2)
        sel = diff if known is None else diff[np.asarray(known, bool)]
        change = int(sel.max()) if sel.size else 0
    return change

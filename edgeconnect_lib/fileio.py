"""Writing files so that none is ever half written, and the one image writer of the library.

* :func:`atomic_write` writes through a temporary file in the same folder, ``fsync`` and ``os.replace``: the path
  is always either the old file or the complete new one (:func:`check_write_target` refuses a folder, a path
  under a file and a read-only file first; :func:`write_error` turns a failure into an ``OSError`` naming the
  path and the cause). :func:`atomic_save` is ``torch.save`` through it (checkpoints, ours and the authors'
  format); :func:`write_bytes` / :func:`write_text` raise :class:`FileWriteError`, whose message is one line
  (:func:`describe_os_error`: the path, the cause and what to do).
* :func:`write_image` is the one image writer: the command line's results (``inpaint``, ``ingan``), the
  editor's PNGs (:func:`write_png`, via :func:`edgeconnect_lib.editor.save_image`) and the trainer's sample
  grids all go through it: floats in [0, 1] or ``uint8`` levels (:func:`check_image_array`: NaN, infinite or
  out-of-range values are refused), encoded in the format of the file's ending (:func:`encode_image`), written
  atomically.

Reading images is :mod:`edgeconnect_lib.images`; edge maps and masks, :mod:`edgeconnect_lib.masks`.
"""
from __future__ import annotations

import errno
import io
import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable

import numpy as np
from PIL import Image

from .errors import UsageError
from .images import LOSSY_EXTENSIONS, to_uint8

__all__ = [
    "atomic_write",
    "atomic_save",
    "check_write_target",
    "new_file_mode",
    "write_error",
    "LOW_SPACE_BYTES",
    "suppress_os_errors",
    "FileWriteError",
    "OS_HINTS",
    "error_line",
    "describe_os_error",
    "write_bytes",
    "write_text",
    "check_image_array",
    "encode_image",
    "write_image",
    "write_png",
]


# ----------------------------------------------------------------------------------------------------------
# Failures, in one line
# ----------------------------------------------------------------------------------------------------------
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


# ----------------------------------------------------------------------------------------------------------
# Atomic writes
# ----------------------------------------------------------------------------------------------------------
def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None],
                 check: Callable[[Path], None] | None = None) -> Path:
    """Write a file with ``write(f)`` so that ``path`` is always either the old file or the complete new one.

    ``check(tmp)``, when given, looks at the complete temporary file before it replaces ``path`` (a hash, a test
    load) and raises to refuse it: the temporary file is then removed and ``path`` stays as it was.

    Write to a temporary file in the same folder, flush and ``fsync`` it, ``os.replace`` it over ``path``
    (atomic on POSIX and Windows), then ``fsync`` the folder so the rename itself survives a power cut.
    The file gets the usual permissions of a new file (``0o666`` less the umask, e.g. ``0o644``), not the
    ``0o600`` of a temporary file.

    A failed write (disk full, read-only filesystem, no permission) leaves ``path`` as it was, removes the
    temporary file and raises an ``OSError`` whose ``filename`` is ``path`` and whose ``strerror`` says why
    (PyTorch's zip writer reports a full disk as ``RuntimeError: [enforce fail at inline_container.cc]``;
    that is translated too, see :func:`write_error`). Refused before anything is written
    (:func:`check_write_target`): a ``path`` that is a folder, one under a file, and an existing file that is
    read-only (no write permission: a rename would replace it silently, a plain ``open`` would refuse).
    """
    path = Path(path)
    check_write_target(path)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            os.chmod(tmp, new_file_mode())
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if check is not None:
            check(Path(tmp))
        os.replace(tmp, path)
        tmp = None
    except (OSError, RuntimeError) as err:
        raise write_error(err, path) from err
    finally:
        if tmp is not None:
            with suppress_os_errors():
                os.unlink(tmp)
    if hasattr(os, "O_DIRECTORY"):
        with suppress_os_errors():
            dfd = os.open(path.parent, os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
    return path


def check_write_target(path: str | os.PathLike) -> Path:
    """Raise an ``OSError`` naming ``path`` (``filename``) and the cause when a file cannot be written there.

    ``IsADirectoryError``: ``path`` is a folder; ``NotADirectoryError``: a part of its folder is a file;
    ``PermissionError``: ``path`` exists and is read-only (no write bit, or no write access). Returns ``path``.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "it is a folder, not a file: give a file name", str(path))
    for parent in (path.parent, *path.parent.parents):
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, f"{parent} is a file, not a folder", str(path))
            break
    if path.is_file():
        mode = path.stat().st_mode
        if not mode & 0o222 or not os.access(path, os.W_OK):
            raise PermissionError(errno.EACCES, "the file is read-only (no write permission), so it is kept: make "
                                  "it writable (chmod u+w) or choose another name", str(path))
    return path


def atomic_save(obj: Any, path: str | os.PathLike, legacy_format: bool = False) -> Path:
    """``torch.save(obj)`` to ``path`` with :func:`atomic_write` (never a half-written checkpoint).

    ``legacy_format=True`` writes PyTorch's pre-1.6 non-zip format (as the authors' released files).
    """
    import torch

    return atomic_write(path, lambda f: torch.save(obj, f, _use_new_zipfile_serialization=not legacy_format))


def new_file_mode() -> int:
    """Permissions of a newly created file here: ``0o666`` less the process's umask (``0o644`` for umask 022)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


#: Free bytes below which a failed write is put down to a full disk.
LOW_SPACE_BYTES = 64 * 2**20


def write_error(err: BaseException, path: Path) -> OSError:
    """The ``OSError`` (``errno``, cause, ``filename=path``) behind a failed write of ``path``.

    An ``OSError`` keeps its errno and cause. PyTorch's zip writer turns a failed ``write`` into a
    ``RuntimeError`` (``[enforce fail at inline_container.cc:...]``, ``file write failed``) that says nothing
    of the cause: it becomes ``ENOSPC`` when the message or the free space of the folder
    (``os.statvfs``, < :data:`LOW_SPACE_BYTES`) says the disk is full, else ``EIO`` with PyTorch's first line.
    """
    if isinstance(err, OSError) and err.errno is not None:
        return OSError(err.errno, err.strerror or os.strerror(err.errno), str(path))
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if "no space" in str(err).lower() or _free_bytes(path.parent) < LOW_SPACE_BYTES:
        return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
    return OSError(errno.EIO, f"the write failed ({text})", str(path))


def _free_bytes(folder: Path) -> float:
    """Bytes free for this user in ``folder``'s filesystem (infinite when it cannot be asked)."""
    try:
        st = os.statvfs(folder)
    except (OSError, AttributeError):
        return float("inf")
    return float(st.f_bavail * st.f_frsize)


class suppress_os_errors:
    """``with suppress_os_errors():`` ignores an ``OSError`` (best-effort clean-up), nothing else."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return exc[0] is not None and issubclass(exc[0], OSError)


# ----------------------------------------------------------------------------------------------------------
# Bytes, text and images
# ----------------------------------------------------------------------------------------------------------
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
        raise UsageError(f"{what} must be H x W (grey) or H x W x 3 (RGB), got shape {arr.shape}")
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    if not np.issubdtype(arr.dtype, np.floating):
        raise UsageError(f"{what} has dtype {arr.dtype}: give floats in [0, 1] or uint8 levels 0..255")
    bad = int(np.count_nonzero(~np.isfinite(arr)))
    if bad:
        raise UsageError(f"{what} has {bad} NaN or infinite value(s): it would be written as wrong pixels; fix the "
                         "computation that made it (or np.nan_to_num it on purpose)")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < -0.5 or hi > 1.5:
        raise UsageError(f"{what} has values from {lo:g} to {hi:g}: a float image must be in [0, 1] (divide 8-bit "
                         "levels by 255, or pass a uint8 array)")
    return to_uint8(arr)


def encode_image(levels: np.ndarray, suffix: str) -> bytes:
    """Encode 8-bit ``levels`` (``H x W`` or ``H x W x 3``) in the format of ``suffix`` (``.png``, ``.jpg``, ...).
    JPEG and WebP are written at quality 95."""
    fmt = Image.registered_extensions().get(suffix.lower())
    if fmt is None:
        raise UsageError(f"{suffix!r} is not an image file ending Pillow can write")
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


def write_png(image: np.ndarray, path: str | os.PathLike, what: str = "image") -> Path:
    """:func:`write_image` for a file that must be lossless: ``path`` must end in ``.png`` (a ``ValueError``
    otherwise: a JPEG would blur a 1-pixel edge or a mask's border). Returns ``path``."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise UsageError(f"{what} {path}: use a .png file (lossless: a JPEG would blur a 1-pixel edge)")
    write_image(image, path, what=what)
    return path

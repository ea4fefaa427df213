"""Pretrained weights: fetch torchvision's VGG19 and the EdgeConnect authors' checkpoints, and verify them.

    python -m edgeconnect_lib download vgg19       # -> torch hub cache, vgg19_hub_cache_path()
    python -m edgeconnect_lib download places2     # the authors' zip -> ~/.cache/edgeconnect/authors/<dataset>/
    python -m edgeconnect_lib download all --force

The manifest (:data:`MANIFEST`) has two entries:

- ``vgg19``: torchvision's ImageNet VGG19 (:data:`~edgeconnect_lib.vgg.VGG19_URL`), saved where
  :func:`~edgeconnect_lib.vgg.load_vgg19` looks for it (:func:`~edgeconnect_lib.vgg.vgg19_hub_cache_path`).
  Verified by torchvision's convention: the file's SHA-256 must start with the hex digits in its name
  (``vgg19-dcbb9e9d.pth`` -> ``dcbb9e9d``), the check ``torch.hub`` does with ``check_hash=True``.
- ``authors``: the one Google Drive zip of the authors' ``scripts/download_model.sh``, which holds their released
  checkpoints for Places2, CelebA and Paris StreetView. It is unzipped into ``<cache>/authors/<dataset>/``
  (``EdgeModel_gen.pth``, ``EdgeModel_dis.pth``, ``InpaintingModel_gen.pth``, ``InpaintingModel_dis.pth``); the
  zip itself is not kept. The authors published no hashes, so each extracted file is verified by loading it with
  :func:`~edgeconnect_lib.authors_format.load_authors_checkpoint` into the paper-size network of its kind (every key and
  every shape of the released layout must be there, and nothing else); the zip's SHA-256 is printed and recorded in
  ``<cache>/authors/authors-zip.sha256`` on the first download, and each extracted file's in
  ``<dataset>/SHA256SUMS``. :attr:`RemoteFile.sha256` pins a full hash when one is known (``None`` for the zip).

Already present files that pass their check are not downloaded again (``force=True`` / ``--force`` does).
Downloads use ``urllib`` only: they stream into a temporary file in the target folder, hashed on the way, and are
renamed into place only once verified, so the cache never holds a half-written or unverified file. A Google Drive
"can't scan this file for viruses" page is answered the way a browser does (its form's action and hidden inputs,
or its ``confirm=`` token), then the download is retried. ``$EDGECONNECT_OFFLINE=1`` refuses every download.
Mirrors (and the tests) serve the files with ``--url`` (one file) or ``--base-url`` / ``$EDGECONNECT_WEIGHTS_URL``
(``<base>/<file name>``: ``vgg19-dcbb9e9d.pth``, ``edgeconnect_checkpoints.zip``); the checks stay the same.

Every failure is a :class:`DownloadError` with a one-line message (no network, HTTP error, hash mismatch, bad zip,
unsafe zip member, offline); the command prints it as ``error: ...`` and exits with status 1.
"""
from __future__ import annotations

import argparse
import hashlib
import html
import http.client
import http.cookiejar
import math
import os
import re
import shutil
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Callable, TextIO

from . import settings
from .authors_format import AUTHORS_FILES, load_authors_checkpoint
from .errors import UsageError
from .fileio import atomic_write, suppress_os_errors
from .vgg import ENV_OFFLINE, ENV_WEIGHTS, VGG19_FILENAME, VGG19_URL, vgg19_hub_cache_path

__all__ = [
    "RemoteFile",
    "DownloadError",
    "Fetched",
    "MANIFEST",
    "VGG19_FILE",
    "AUTHORS_ZIP",
    "AUTHORS_DATASETS",
    "AUTHORS_DRIVE_FOLDERS",
    "TARGETS",
    "ENV_CACHE",
    "ENV_BASE_URL",
    "torchvision_file",
    "cache_dir",
    "authors_dir",
    "sha256_file",
    "fetch_file",
    "drive_confirm_url",
    "extract_authors_zip",
    "verify_authors_folder",
    "download",
    "add_arguments",
    "run",
]

#: Environment variables: the cache folder of the authors' checkpoints, and a base URL of a mirror.
ENV_CACHE = settings.CACHE
ENV_BASE_URL = settings.WEIGHTS_URL

#: The datasets of the authors' release, as folder names under ``<cache>/authors/``.
AUTHORS_DATASETS = ("places2", "celeba", "psv")
#: The authors' Google Drive folders (their README), for a download by hand.
AUTHORS_DRIVE_FOLDERS = {
    "places2": "https://drive.google.com/drive/folders/1KyXz4W4SAvfsGh3NJ7XgdOv5t46o-8aa",
    "celeba": "https://drive.google.com/drive/folders/1nkLOhzWL-w2euo0U6amhz7HVzqNC5rqb",
    "psv": "https://drive.google.com/drive/folders/1cGwDaZqDcqYU7kDuEbMXa9TP3uDJRBR1",
}
#: What ``download`` accepts.
TARGETS = ("vgg19", *AUTHORS_DATASETS, "authors", "all")

#: Folder names inside the zip -> dataset (lower case, letters and digits only).
_DATASET_ALIASES = {
    "places2": "places2", "places": "places2", "place2": "places2",
    "celeba": "celeba", "celeb": "celeba",
    "psv": "psv", "paris": "psv", "parisstreetview": "psv", "streetview": "psv",
}
_KIND_BY_NAME = {name: kind for kind, (name, _) in AUTHORS_FILES.items()}
_HASH_IN_NAME = re.compile(r"-([0-9a-f]{8,64})\.[A-Za-z0-9]+$")
_SUMS = "SHA256SUMS"
_ZIP_SIDECAR = "authors-zip.sha256"
_CHUNK = 1 << 20
_MAX_HTML = 2 << 20  # a confirm page is a few kB; never read more than this of an HTML answer


class DownloadError(Exception):
    """A download or verification that failed; the message is one line saying what happened and what to do."""


@dataclass(frozen=True)
class RemoteFile:
    """One downloadable file of the manifest.

    ``url``: where it is published. ``filename``: its name on a mirror (``--base-url`` serves ``<base>/<filename>``).
    ``sha256``: the full SHA-256 to match, when one is known (optional: the authors published none, so for their zip
    it is ``None`` and the hash is recorded on the first download instead). ``sha256_prefix``: torchvision's
    convention, the leading hex digits of the SHA-256 written in the file name. ``manual``: how to get it by hand
    (a template with ``{url}``, ``{dest}`` (the file's path) and ``{folder}`` (its folder)).
    """

    name: str
    url: str
    filename: str
    description: str
    sha256: str | None = None
    sha256_prefix: str | None = None
    manual: str = ""

    def check(self, digest: str) -> str | None:
        """``None`` when ``digest`` (hex SHA-256) fits the pinned hash or prefix, else what was expected."""
        if self.sha256 is not None and digest.lower() != self.sha256.lower():
            return self.sha256.lower()
        if self.sha256_prefix is not None and not digest.lower().startswith(self.sha256_prefix.lower()):
            return f"{self.sha256_prefix.lower()}..."
        return None

    def how_checked(self) -> str:
        """The verification in words."""
        if self.sha256 is not None:
            return "SHA-256 equals the pinned hash"
        if self.sha256_prefix is not None:
            return f"SHA-256 starts with {self.sha256_prefix}, the digits in its name (torchvision's check)"
        return "no published hash"


def torchvision_file(filename: str = VGG19_FILENAME, url: str | None = None, name: str = "vgg19") -> RemoteFile:
    """The manifest entry of a torchvision weights file named ``<model>-<hex>.pth``; its hash prefix is ``<hex>``.

    ``url`` defaults to ``https://download.pytorch.org/models/<filename>``. The tests build an entry from a file
    name of their own, so the name-prefix check runs through the same code as for the real file.
    """
    match = _HASH_IN_NAME.search(filename)
    if match is None:
        raise UsageError(f"{filename!r}: a torchvision weights file is named <model>-<hex digits>.<ext>")
    return RemoteFile(
        name=name,
        url=url or f"https://download.pytorch.org/models/{filename}",
        filename=filename,
        description="torchvision's ImageNet VGG19 weights (perceptual and style losses)",
        sha256_prefix=match.group(1),
        manual=f"download {{url}} on another machine and put the file at {{dest}}, or set ${ENV_WEIGHTS}",
    )


#: torchvision's ImageNet VGG19, the loss network of the perceptual and style losses.
VGG19_FILE = torchvision_file(VGG19_FILENAME, VGG19_URL)
#: The authors' released checkpoints, one zip (scripts/download_model.sh of knazeri/edge-connect). No published hash.
AUTHORS_ZIP = RemoteFile(
    name="authors",
    url="https://drive.google.com/uc?export=download&id=13G_Bszli37e4An-owPLXSBsayVafqfGX",
    filename="edgeconnect_checkpoints.zip",
    description="the EdgeConnect authors' checkpoints (Places2, CelebA, Paris StreetView)",
    sha256=None,
    manual="download the files from the authors' Google Drive folders ("
    + ", ".join(f"{k}: {v}" for k, v in AUTHORS_DRIVE_FOLDERS.items())
    + ") and put them in {folder}/<dataset>/",
)
#: name -> entry.
MANIFEST: dict[str, RemoteFile] = {"vgg19": VGG19_FILE, "authors": AUTHORS_ZIP}


@dataclass(frozen=True)
class Fetched:
    """One file in place: where, how it was verified, and whether it was downloaded now."""

    name: str
    path: Path
    verified: str
    downloaded: bool

    def line(self) -> str:
        """What the command prints for it."""
        state = "downloaded" if self.downloaded else "already present, not downloaded again"
        return f"{self.name}: {self.path} ({state}; verified: {self.verified})"


# ----------------------------------------------------------------------------------------------------------
# Where files go
# ----------------------------------------------------------------------------------------------------------
def cache_dir() -> Path:
    """The cache of the authors' checkpoints: ``$EDGECONNECT_CACHE``, else ``$XDG_CACHE_HOME/edgeconnect``,
    else ``~/.cache/edgeconnect``."""
    if settings.authors_cache() is not None:
        return settings.authors_cache()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "edgeconnect"


def authors_dir(dataset: str | None = None, root: str | Path | None = None) -> Path:
    """``<root>/<dataset>`` (``root`` defaults to ``cache_dir()/"authors"``); the root itself for ``None``."""
    base = Path(root).expanduser() if root is not None else cache_dir() / "authors"
    if dataset is None:
        return base
    if dataset not in AUTHORS_DATASETS:
        raise UsageError(f"dataset={dataset!r}: choose one of {list(AUTHORS_DATASETS)}")
    return base / dataset


def _offline() -> bool:
    """True when ``$EDGECONNECT_OFFLINE`` is 1 / true / yes (as :func:`~edgeconnect_lib.vgg.load_vgg19` reads it)."""
    return settings.offline()


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


# ----------------------------------------------------------------------------------------------------------
# Download one file (urllib, streamed, hashed on the way, atomic rename)
# ----------------------------------------------------------------------------------------------------------
class _FormParser(HTMLParser):
    """Collects the forms (action, method, inputs) and the links of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", "get").lower(), "inputs": []})
        elif tag == "input" and self.forms and a.get("name"):
            if a.get("type", "text").lower() in ("hidden", "text"):  # what a browser sends, buttons aside
                self.forms[-1]["inputs"].append((a["name"], a.get("value", "")))
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])


def drive_confirm_url(page: str, page_url: str, cookies: dict[str, str] | None = None) -> str | None:
    """The URL a browser would fetch next from Google Drive's "can't scan this file for viruses" page, or ``None``.

    Tried in order: a form whose inputs include ``confirm`` (its action, resolved against ``page_url``, with its
    hidden inputs as the query, as Drive's current page has it); a link holding ``confirm=``; a bare ``confirm=TOKEN``
    in the text; a ``download_warning*`` cookie (the older page), added as ``confirm=`` to ``page_url``.
    """
    parser = _FormParser()
    try:
        parser.feed(page)
    except Exception:  # malformed HTML: fall back to the token searches below
        pass
    for form in parser.forms:
        names = [n for n, _ in form["inputs"]]
        if "confirm" in names or "id" in names:
            action = urllib.parse.urljoin(page_url, html.unescape(form["action"]) or page_url)
            query = urllib.parse.urlencode(form["inputs"])
            return action + ("&" if "?" in action else "?") + query
    for href in parser.links:
        if "confirm=" in href:
            return urllib.parse.urljoin(page_url, html.unescape(href))
    token = re.search(r"confirm=([0-9A-Za-z_-]+)", page)
    token_value = token.group(1) if token else None
    if token_value is None and cookies:
        token_value = next((v for k, v in cookies.items() if k.startswith("download_warning")), None)
    if token_value:
        parts = urllib.parse.urlsplit(page_url)
        query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k != "confirm"] + [("confirm", token_value)]
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
    return None


class _Progress:
    """A progress line on ``stream``: redrawn in place on a terminal, one line at the end otherwise."""

    def __init__(self, label: str, total: int | None, stream: TextIO | None) -> None:
        self.label, self.total, self.stream = label, total, stream
        self.tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())
        self.start = self.last = time.monotonic()

    def text(self, done: int) -> str:
        unit, scale = ("MB", 1e6) if max(done, self.total or 0) >= 1e6 else ("kB", 1e3)
        mb = f"{done / scale:,.1f}"
        if self.total:
            mb += f" / {self.total / scale:,.1f} {unit} ({100 * done / self.total:.0f}%)"
        else:
            mb += f" {unit}"
        rate = done / 1e6 / max(time.monotonic() - self.start, 1e-6)
        return f"  {self.label}: {mb}, {rate:,.1f} MB/s"

    def update(self, done: int) -> None:
        now = time.monotonic()
        if self.tty and now - self.last >= 0.25:
            self.last = now
            print("\r" + self.text(done), end="", file=self.stream, flush=True)

    def finish(self, done: int) -> None:
        if self.stream is not None:
            print(("\r" if self.tty else "") + self.text(done), file=self.stream, flush=True)


def _manual(entry: RemoteFile, url: str, dest: Path) -> str:
    """The entry's how-to-get-it-by-hand text for ``url`` and the target path ``dest``."""
    return entry.manual.format(url=url, dest=dest, folder=dest.parent)


def _network_error(err: BaseException, url: str, entry: RemoteFile, dest: Path, timeout: float) -> DownloadError:
    """A one-line :class:`DownloadError` for a failed request."""
    manual = _manual(entry, url, dest)
    host = urllib.parse.urlsplit(url).netloc
    if isinstance(err, urllib.error.HTTPError):
        return DownloadError(f"{url}: HTTP error {err.code} {err.reason} (is the address right? {manual})")
    reason = err.reason if isinstance(err, urllib.error.URLError) else err
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return DownloadError(f"{url}: no answer within {timeout:g} s (slow or no internet? retry with a longer "
                             f"--timeout, or {manual})")
    return DownloadError(f"cannot reach {host} ({reason}): no internet? {manual}")


def fetch_file(
    entry: RemoteFile,
    dest: str | Path,
    url: str | None = None,
    timeout: float = 60.0,
    progress: TextIO | None = sys.stderr,
    keep: bool = True,
) -> tuple[Path, str]:
    """Download ``entry`` (from ``url``, default ``entry.url``) to ``dest``; return ``(path, sha256)``.

    The bytes stream into a temporary file in ``dest``'s folder and are hashed on the way; a Google Drive confirm
    page is answered (:func:`drive_confirm_url`) and the request retried. If the hash does not fit the entry's
    (:meth:`RemoteFile.check`), the temporary file is deleted and a :class:`DownloadError` names the expected and
    the actual hash. Otherwise the file is renamed to ``dest`` (``keep=True``), or, with ``keep=False``, left as the
    temporary file whose path is returned (the caller deletes it: used for the authors' zip, which is not kept).
    ``timeout`` is per network operation, in seconds. Refused when ``$EDGECONNECT_OFFLINE`` is set.
    """
    dest = Path(dest)
    url = url or entry.url
    if _offline():
        raise DownloadError(f"${ENV_OFFLINE} is set: not downloading {entry.name} ({url}); unset it to download, "
                            f"or {_manual(entry, url, dest)}")
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", "edgeconnect-course (urllib)")]
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp: str | None = None
    try:
        for _hop in range(4):  # the file, or a confirm page then the file (Drive needs at most two pages)
            try:
                response = opener.open(url, timeout=timeout)
            except (urllib.error.URLError, OSError) as err:
                raise _network_error(err, url, entry, dest, timeout) from err
            with response:
                ctype = response.headers.get("Content-Type", "")
                if ctype.lower().startswith("text/html"):
                    page = response.read(_MAX_HTML).decode("utf-8", "replace")
                    nxt = drive_confirm_url(page, response.geturl(), {c.name: c.value or "" for c in jar})
                    if nxt is None or nxt == url:
                        title = re.search(r"<title>(.*?)</title>", page, re.S | re.I)
                        raise DownloadError(
                            f"{url} answered with an HTML page ({(title.group(1).strip() if title else 'no title')!r}),"
                            f" not the file, and no download link on it (Google Drive's daily quota? retry later, "
                            f"or {_manual(entry, url, dest)})")
                    url = nxt
                    continue
                total = response.headers.get("Content-Length")
                bar = _Progress(entry.filename, int(total) if total and total.isdigit() else None, progress)
                h, done = hashlib.sha256(), [0]

                def stream(f: BinaryIO, response: Any = response, url: str = url) -> None:
                    # the bytes go to the file and the hash on the way
                    try:
                        while chunk := response.read(_CHUNK):
                            f.write(chunk)
                            h.update(chunk)
                            done[0] += len(chunk)
                            bar.update(done[0])
                    except (TimeoutError, socket.timeout, ConnectionError, http.client.HTTPException) as err:
                        raise DownloadError(f"{url}: the download broke off after {done[0] / 1e6:,.1f} MB ({err}); "
                                            "run the command again") from err

                def verify(_tmp: Path, url: str = url) -> None:
                    # the complete file, before it takes its name: its length and its hash
                    bar.finish(done[0])
                    if bar.total is not None and done[0] != bar.total:
                        raise DownloadError(f"{url}: got {done[0]:,} bytes of {bar.total:,}; run the command again")
                    expected = entry.check(h.hexdigest())
                    if expected is not None:
                        raise DownloadError(f"{entry.name}: hash mismatch for {url}: expected SHA-256 {expected}, got "
                                            f"{h.hexdigest()}; the file was deleted (a corrupt download or a "
                                            "different file)")

                if keep:  # fileio.atomic_write: dest is the old file or the complete, verified new one
                    atomic_write(dest, stream, check=verify)
                    return dest, h.hexdigest()
                # not kept (the authors' zip): a scratch file in dest's folder, which the caller deletes
                fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
                with os.fdopen(fd, "wb") as f:
                    stream(f)
                verify(Path(tmp))
                path, tmp = Path(tmp), None
                return path, h.hexdigest()
        raise DownloadError(f"{entry.url}: too many confirm pages; {_manual(entry, url, dest)}")
    finally:
        if tmp is not None:
            with suppress_os_errors():
                os.unlink(tmp)


# ----------------------------------------------------------------------------------------------------------
# The authors' zip
# ----------------------------------------------------------------------------------------------------------
def _safe_member(name: str) -> bool:
    """A zip member name that stays inside the folder it is extracted to."""
    if not name or name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or "\x00" in name:
        return False
    return ".." not in PurePosixPath(name.replace("\\", "/")).parts


def _dataset_of(member: str) -> str | None:
    """The dataset a member belongs to, from the nearest folder name that is one (``checkpoints/places2/x.pth``)."""
    for part in reversed(PurePosixPath(member.replace("\\", "/")).parts[:-1]):
        key = re.sub(r"[^a-z0-9]", "", part.lower())
        if key in _DATASET_ALIASES:
            return _DATASET_ALIASES[key]
    return None


def _verify_checkpoint(path: Path, kind: str, label: str) -> str:
    """Load ``path`` as the authors' ``kind`` file; return the verification in words or raise DownloadError."""
    try:
        net = load_authors_checkpoint(path, kind=kind)
    except (ValueError, RuntimeError, OSError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DownloadError(f"{label}: not the authors' {kind} file of the released layout ({first})") from err
    n = sum(p.numel() for p in net.parameters())
    return f"loads into the paper's {type(net).__name__} ({n:,} parameters, every key and shape of the released layout)"


def _read_sums(folder: Path) -> dict[str, str]:
    """``{file name: sha256}`` from ``folder/SHA256SUMS`` (``sha256sum``'s format); empty when there is none."""
    sums: dict[str, str] = {}
    with suppress_os_errors():
        for line in (folder / _SUMS).read_text().splitlines():
            digest, _, name = line.strip().partition("  ")
            if name:
                sums[name] = digest
    return sums


def _write_text(path: Path, text: str) -> None:
    """Write a small text file atomically (:func:`edgeconnect_lib.fileio.atomic_write`: temporary file, rename)."""
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def verify_authors_folder(folder: str | Path) -> list[Fetched] | None:
    """The files of an authors' checkpoint folder if it is complete and verified, else ``None``.

    Complete: all four files. Verified: each file's SHA-256 equals the one in the folder's ``SHA256SUMS``
    (written when the file was extracted and loaded); a folder without that record (files put there by hand) is
    verified by loading each file, and the record is then written.
    """
    folder = Path(folder)
    names = [name for name, _ in AUTHORS_FILES.values()]
    if not all((folder / n).is_file() for n in names):
        return None
    sums = _read_sums(folder)
    out = []
    if all(n in sums for n in names):
        for n in names:
            if sha256_file(folder / n) != sums[n]:
                return None
            out.append(Fetched(folder.name, folder / n, f"SHA-256 {sums[n][:12]}... as recorded when extracted", False))
        return out
    record = {}
    for n in names:
        try:
            how = _verify_checkpoint(folder / n, _KIND_BY_NAME[n], str(folder / n))
        except DownloadError:
            return None
        record[n] = sha256_file(folder / n)
        out.append(Fetched(folder.name, folder / n, how, False))
    with suppress_os_errors():
        _write_text(folder / _SUMS, "".join(f"{record[n]}  {n}\n" for n in names))
    return out


def extract_authors_zip(
    zip_path: str | Path,
    root: str | Path,
    datasets: tuple[str, ...] | list[str] = AUTHORS_DATASETS,
    label: str | None = None,
) -> list[Fetched]:
    """Extract the authors' checkpoints for ``datasets`` from ``zip_path`` into ``root/<dataset>/``, verified.

    Member names are checked first: an absolute path, a drive letter or a ``..`` part refuses the whole zip. A
    member belongs to the dataset named by its nearest folder (``places2``, ``celeba``, ``psv`` / ``paris``); other
    members are ignored. Each file is written to a temporary file in its folder (the zip's CRC checked while
    reading), loaded with :func:`~edgeconnect_lib.authors_format.load_authors_checkpoint` into the paper-size network
    of its kind, and only then renamed into place; its SHA-256 goes into the folder's ``SHA256SUMS``.
    ``label`` names the zip in messages (default: its path; the command gives its URL).
    """
    zip_path, root = Path(zip_path), Path(root)
    label = label or str(zip_path)
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as err:
        raise DownloadError(f"{label}: not a valid zip file ({err}); the download is damaged or is not the "
                            "authors' zip") from err
    with archive:
        unsafe = [m.filename for m in archive.infolist() if not _safe_member(m.filename)]
        if unsafe:
            raise DownloadError(f"{label}: refused, member names that leave the target folder: {unsafe[:5]}")
        members: dict[str, dict[str, zipfile.ZipInfo]] = {}
        for info in archive.infolist():
            base = PurePosixPath(info.filename.replace("\\", "/")).name
            dataset = _dataset_of(info.filename)
            if info.is_dir() or base not in _KIND_BY_NAME or dataset is None:
                continue
            if base in members.setdefault(dataset, {}):
                raise DownloadError(f"{label}: two {dataset} {base} files ({members[dataset][base].filename}, "
                                    f"{info.filename}); cannot tell which is the released one")
            members[dataset][base] = info
        absent = [d for d in datasets if d not in members]
        if absent:
            raise DownloadError(f"{label}: no checkpoints for {absent} in the zip (it has "
                                f"{sorted(members) or 'none of ' + str([n for n, _ in AUTHORS_FILES.values()])})")
        fetched: list[Fetched] = []
        for dataset in datasets:
            folder = root / dataset
            folder.mkdir(parents=True, exist_ok=True)
            sums = _read_sums(folder)
            for base, info in sorted(members[dataset].items(), key=lambda item: list(_KIND_BY_NAME).index(item[0])):
                verified: dict[str, str] = {}

                def check(tmp: Path, base: str = base, info: zipfile.ZipInfo = info) -> None:
                    # the extracted file must load into the paper's network before it takes the final name
                    verified["how"] = _verify_checkpoint(tmp, _KIND_BY_NAME[base],
                                                         f"{info.filename} in {Path(label).name}")
                    verified["sha256"] = sha256_file(tmp)

                try:
                    with archive.open(info) as src:
                        atomic_write(folder / base, lambda f: shutil.copyfileobj(src, f, _CHUNK), check=check)
                except zipfile.BadZipFile as err:
                    raise DownloadError(f"{label}: {info.filename} is damaged ({err}); run the command again") \
                        from err
                how, sums[base] = verified["how"], verified["sha256"]
                fetched.append(Fetched(dataset, folder / base, how, True))
            _write_text(folder / _SUMS, "".join(f"{sums[n]}  {n}\n" for n in _KIND_BY_NAME if n in sums))
        return fetched


# ----------------------------------------------------------------------------------------------------------
# download: what the command does
# ----------------------------------------------------------------------------------------------------------
def _mirror_url(entry: RemoteFile, url: str | None, base_url: str | None) -> str:
    """The address to fetch ``entry`` from: ``url``, else ``<base>/<filename>``, else the published one."""
    if url:
        return url
    base = base_url or settings.weights_base_url()
    return f"{base.rstrip('/')}/{entry.filename}" if base else entry.url


def download(
    target: str,
    dest: str | Path | None = None,
    url: str | None = None,
    base_url: str | None = None,
    force: bool = False,
    timeout: float = 60.0,
    log: Callable[[str], None] = print,
    progress: TextIO | None = sys.stderr,
    manifest: dict[str, RemoteFile] | None = None,
) -> list[Fetched]:
    """Fetch ``target`` (one of :data:`TARGETS`) into the cache, verified; return what is in place.

    ``vgg19`` goes to :func:`~edgeconnect_lib.vgg.vgg19_hub_cache_path` (``dest``: ``dest/vgg19-dcbb9e9d.pth``);
    ``places2`` / ``celeba`` / ``psv`` / ``authors`` to :func:`authors_dir` (``dest``: ``dest/<dataset>/``); all
    three datasets come from one zip, so the first of them fetched brings the others. ``all`` is both.
    ``url`` replaces the one file's address (not with ``all``), ``base_url`` (or ``$EDGECONNECT_WEIGHTS_URL``) serves
    ``<base>/<file name>``. Files present and verified are kept unless ``force``. ``manifest`` replaces
    :data:`MANIFEST` (tests). Progress goes to ``progress``, one line per step to ``log``.
    """
    if target not in TARGETS:
        raise UsageError(f"download {target!r}: choose one of {', '.join(TARGETS)}")
    if url and target == "all":
        raise UsageError("--url names one file: use it with vgg19, or with authors / places2 / celeba / psv")
    manifest = manifest or MANIFEST
    out: list[Fetched] = []
    if target in ("vgg19", "all"):
        out += _download_vgg19(manifest["vgg19"], dest, url, base_url, force, timeout, log, progress)
    if target != "vgg19":
        wanted = AUTHORS_DATASETS if target in ("authors", "all") else (target,)
        out += _download_authors(manifest["authors"], wanted, dest, url, base_url, force, timeout, log, progress)
    return out


def _download_vgg19(entry: RemoteFile, dest: str | Path | None, url: str | None, base_url: str | None, force: bool,
                    timeout: float, log: Callable[[str], None], progress: TextIO | None) -> list[Fetched]:
    """``download("vgg19")``: keep a verified file, else fetch it to the hub path (or ``dest``)."""
    path = Path(dest).expanduser() / VGG19_FILENAME if dest is not None else vgg19_hub_cache_path()
    if path.is_file() and not force:
        digest = sha256_file(path)
        if entry.check(digest) is None:
            return [Fetched(entry.name, path, entry.how_checked(), False)]
        log(f"{entry.name}: {path} is there but its SHA-256 {digest[:12]}... fails the check"
            + ("" if _offline() else ": downloading it again"))
    source = _mirror_url(entry, url, base_url)
    if not _offline():  # offline: fetch_file refuses with one line; do not announce a download first
        log(f"{entry.name}: downloading {source}")
    path, digest = fetch_file(entry, path, source, timeout=timeout, progress=progress)
    if dest is not None and path != vgg19_hub_cache_path():
        log(f"{entry.name}: load_vgg19 finds it with ${ENV_WEIGHTS}={path}")
    return [Fetched(entry.name, path, f"{entry.how_checked()}; SHA-256 {digest}", True)]


def _download_authors(entry: RemoteFile, wanted: tuple[str, ...], dest: str | Path | None, url: str | None,
                      base_url: str | None, force: bool, timeout: float, log: Callable[[str], None],
                      progress: TextIO | None) -> list[Fetched]:
    """``download(<dataset>)``: keep verified folders, else fetch the zip once and extract what is missing."""
    root = authors_dir(None, dest)
    present = {d: None if force else verify_authors_folder(root / d) for d in AUTHORS_DATASETS}
    out = [f for d in wanted for f in (present[d] or [])]
    if all(present[d] for d in wanted):
        return out
    source = _mirror_url(entry, url, base_url)
    if not _offline():
        log(f"{entry.name}: downloading {source} ({entry.description})")
    zip_path, digest = fetch_file(entry, root / entry.filename, source, timeout=timeout, progress=progress,
                                  keep=False)
    try:
        # every dataset the zip brings that is not already in place (one zip holds all three)
        missing = [d for d in AUTHORS_DATASETS if not present[d]]
        available = _datasets_in(zip_path)
        if not available:  # not a zip, unsafe names, or none of the authors' files: the extraction says which
            extract_authors_zip(zip_path, root, wanted, label=source)
        fetched = extract_authors_zip(zip_path, root, [d for d in missing if d in available], label=source)
    finally:
        with suppress_os_errors():
            os.unlink(zip_path)
    # the zip's hash: pinned (checked by fetch_file), else recorded on the first download that extracted
    sidecar, recorded = root / _ZIP_SIDECAR, None
    with suppress_os_errors():
        recorded = (sidecar.read_text().split() or [None])[0] if sidecar.is_file() else None
    if entry.sha256 is not None:
        note = entry.how_checked()
    elif recorded is None:
        _write_text(sidecar, f"{digest}  {entry.filename}  {source}\n")
        note = f"recorded in {sidecar} (the authors published no hash)"
    elif recorded == digest:
        note = f"the same as recorded in {sidecar}"
    else:
        note = f"differs from {recorded[:12]}... recorded in {sidecar} (the file on the server changed?)"
    log(f"{entry.name}: zip SHA-256 {digest}: {note}")
    absent = [d for d in wanted if d not in available]
    if absent:
        for f in fetched:
            log(f.line())
        manual = _manual(entry, source, root / entry.filename)
        raise DownloadError(f"{source}: the zip has no checkpoints for {', '.join(absent)} (it has "
                            f"{', '.join(sorted(available))}, now in {root}); {manual}")
    extra = sorted({f.name for f in fetched} - set(wanted))
    if extra:
        log(f"{entry.name}: the zip also held {', '.join(extra)}: extracted and verified too")
    return out + [f for f in fetched if f.name in wanted or f.name in extra]


def _datasets_in(zip_path: Path) -> set[str]:
    """Datasets the zip has checkpoints for (empty for a file that is not a zip: the extraction says why)."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            return {d for m in archive.namelist() if (d := _dataset_of(m)) and PurePosixPath(m).name in _KIND_BY_NAME}
    except (zipfile.BadZipFile, OSError):
        return set()


# ----------------------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of ``python -m edgeconnect_lib download``."""
    parser.add_argument("what", choices=TARGETS, metavar="WHAT",
                        help="vgg19 (torchvision's ImageNet VGG19), places2 | celeba | psv | authors (the authors' "
                             "checkpoints, one zip holding all three), or all")
    parser.add_argument("--dest", type=Path, default=None,
                        help="folder to put the files in (default: the torch hub cache for vgg19, "
                             f"${ENV_CACHE} or ~/.cache/edgeconnect/authors for the authors' checkpoints)")
    parser.add_argument("--url", default=None, help="download the file from this address instead (a mirror); the "
                                                    "checks stay the same")
    parser.add_argument("--base-url", default=None,
                        help=f"a mirror serving <base>/{VGG19_FILENAME} and <base>/{AUTHORS_ZIP.filename} "
                             f"(or ${ENV_BASE_URL})")
    parser.add_argument("--force", action="store_true", help="download again even if verified files are present")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds to wait for the server, a positive finite number (default 60)")
    return parser


def run(args: argparse.Namespace) -> int:
    """``download``: fetch, verify, print one line per file; a failure prints ``error: ...`` and returns 1.
    A bad ``--timeout`` (0, negative, not finite) raises ``ValueError`` (a usage error: exit status 2)."""
    if not (math.isfinite(args.timeout) and args.timeout > 0):
        raise UsageError(f"--timeout {args.timeout:g}: must be a positive, finite number of seconds (e.g. 60)")
    try:
        fetched = download(args.what, dest=args.dest, url=args.url, base_url=args.base_url, force=args.force,
                           timeout=args.timeout, log=lambda s: print(s, flush=True))
    except DownloadError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for f in fetched:
        print(f.line(), flush=True)
    return 0

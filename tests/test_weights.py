"""``edgeconnect_lib.weights`` and ``python -m edgeconnect_lib download``, against a local HTTP server on 127.0.0.1.

The server (``http.server.ThreadingHTTPServer`` in a thread) serves a small torch file named like torchvision's
files with its own hash prefix, the same bytes under torchvision's real name (whose prefix they do not match), a zip
of paper-size networks written in the authors' format (Places2 only, built once per module), a Google Drive-style
"can't scan for viruses" page whose form leads to that zip, a page without any link (Drive's quota page), a zip
with a ``../`` member and a file that is not a zip.
"""
from __future__ import annotations

import functools
import hashlib
import http.server
import io
import os
import socket
import subprocess
import sys
import threading
import urllib.parse
import zipfile
from pathlib import Path

import pytest
import torch

from edgeconnect_lib import weights
from edgeconnect_lib.__main__ import main
from edgeconnect_lib.checkpoints import AUTHORS_FILES, load_authors_folder, paper_network, save_authors_checkpoint
from edgeconnect_lib.vgg import VGG19_FILENAME, load_vgg19, vgg19_hub_cache_path
from edgeconnect_lib.weights import (
    AUTHORS_ZIP,
    MANIFEST,
    DownloadError,
    RemoteFile,
    download,
    drive_confirm_url,
    extract_authors_zip,
    torchvision_file,
    verify_authors_folder,
)

ROOT = Path(__file__).resolve().parents[1]
NAMES = [name for name, _ in AUTHORS_FILES.values()]
DRIVE_ID = "FAKEID123"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files, plus a Drive-like pair: /uc answers with a confirm form, /download?...&confirm=t with the zip."""

    requests: list[str]  # set on the subclass made per server

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.requests.append(self.path)
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/uc" and query.get("id") == DRIVE_ID:
            page = (
                "<!DOCTYPE html><html><head><title>Google Drive - Virus scan warning</title></head><body>"
                "<p>Google Drive can't scan this file for viruses.</p>"
                '<form id="download-form" action="/download" method="get">'
                '<input type="submit" id="uc-download-link" value="Download anyway"/>'
                f'<input type="hidden" name="id" value="{DRIVE_ID}">'
                '<input type="hidden" name="export" value="download">'
                '<input type="hidden" name="confirm" value="t"><input type="hidden" name="uuid" value="abc-123">'
                "</form></body></html>"
            ).encode()
            self._send(200, "text/html; charset=utf-8", page, cookie="download_warning_1=t; Path=/")
        elif url.path == "/download":
            if query.get("confirm") == "t" and query.get("uuid") == "abc-123" and query.get("id") == DRIVE_ID:
                self._send(200, "application/octet-stream", (Path(self.directory) / "authors.zip").read_bytes())
            else:
                self._send(403, "text/plain", b"no confirm token")
        elif url.path == "/quota":
            self._send(200, "text/html", b"<html><head><title>Quota exceeded</title></head><body>Too many users"
                                         b"</body></html>")
        else:
            super().do_GET()

    def _send(self, code: int, ctype: str, body: bytes, cookie: str | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if cookie:
            self.send_header("Set-Cookie", cookie)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Serve the test files; yields ``(base_url, folder, info)``."""
    root = tmp_path_factory.mktemp("served")
    # a small torch file (a state dict, but not VGG19's) named like torchvision's files: model-<sha prefix>.pth
    buf = io.BytesIO()
    torch.save({"features.0.weight": torch.arange(27.0).view(1, 3, 3, 3)}, buf)
    fake = buf.getvalue()
    fake_name = f"vgg19-{_sha(fake)[:8]}.pth"
    (root / fake_name).write_bytes(fake)
    (root / VGG19_FILENAME).write_bytes(fake)  # torchvision's real name, wrong bytes
    # the authors' format, paper size, one dataset (the real zip holds three)
    nets = root / "nets"
    nets.mkdir()
    for kind in AUTHORS_FILES:
        torch.manual_seed(len(kind))
        save_authors_checkpoint(paper_network(kind), nets, iteration=1234)
    with zipfile.ZipFile(root / "authors.zip", "w", zipfile.ZIP_STORED) as z:
        for name in NAMES:
            z.write(nets / name, f"checkpoints/places2/{name}")
        z.writestr("checkpoints/README.txt", "the authors' checkpoints")
    (root / AUTHORS_ZIP.filename).write_bytes((root / "authors.zip").read_bytes())
    with zipfile.ZipFile(root / "evil.zip", "w") as z:
        z.writestr("places2/EdgeModel_gen.pth", b"x")
        z.writestr("../evil.txt", b"outside")
    (root / "notazip.zip").write_bytes(b"PK\x03\x04 but not really a zip" * 10)
    handler = type("Handler", (_Handler,), {"requests": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    info = {"fake_name": fake_name, "fake": fake, "nets": nets, "requests": handler.requests,
            "zip_sha": _sha((root / "authors.zip").read_bytes())}
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root, info
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    """A fresh torch hub folder and authors' cache; no offline switch, no mirror, no VGG path from outside."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("EDGECONNECT_CACHE", str(tmp_path / "cache"))
    for var in ("EDGECONNECT_OFFLINE", "EDGECONNECT_WEIGHTS_URL", "EDGECONNECT_VGG19_WEIGHTS"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# --------------------------------------------------------------------------------------------------------
# VGG19: torchvision's name-prefix check, the hub path, the errors
# --------------------------------------------------------------------------------------------------------
def test_vgg19_goes_to_the_hub_path_verified_by_its_name_and_load_vgg19_finds_it(server, cache):
    base, _, info = server
    entry = torchvision_file(info["fake_name"], url=f"{base}/{info['fake_name']}")
    assert entry.sha256_prefix == _sha(info["fake"])[:8]
    manifest = {**MANIFEST, "vgg19": entry}
    lines: list[str] = []
    (got,) = download("vgg19", manifest=manifest, log=lines.append, progress=None)
    hub = vgg19_hub_cache_path()
    assert hub.parent.is_relative_to(cache / "torch")
    assert got.path == hub and got.downloaded and hub.read_bytes() == info["fake"]
    assert f"starts with {entry.sha256_prefix}" in got.verified and _sha(info["fake"]) in got.verified
    assert _files(hub.parent) == [VGG19_FILENAME]  # no temporary file left
    # present and verified: not fetched again
    before = len(info["requests"])
    (again,) = download("vgg19", manifest=manifest, log=lines.append, progress=None)
    assert not again.downloaded and len(info["requests"]) == before
    # load_vgg19 looks at exactly that path; the fake holds one tensor, so it says the file is not VGG19's
    with pytest.raises(ValueError, match="not a torchvision VGG19 state dict: missing keys") as err:
        load_vgg19(allow_download=False)
    assert str(hub) in str(err.value)


def test_hash_mismatch_deletes_the_download_and_names_both_hashes(server, cache, capsys):
    base, _, info = server
    # through the command: the real manifest expects dcbb9e9d, the mirror serves other bytes under that name
    rc = main(["download", "vgg19", "--base-url", base])
    err = capsys.readouterr().err
    assert rc == 1
    (line,) = [x for x in err.splitlines() if x.startswith("error:")]
    assert "hash mismatch" in line and "expected SHA-256 dcbb9e9d..." in line and f"got {_sha(info['fake'])}" in line
    assert _files(cache / "torch") == []  # nothing in the cache, not even a temporary file
    # a full pinned hash (the optional manifest field) is checked the same way
    pinned = RemoteFile("vgg19", f"{base}/{info['fake_name']}", info["fake_name"], "test", sha256="ab" * 32)
    with pytest.raises(DownloadError, match=f"expected SHA-256 {'ab' * 32}, got {_sha(info['fake'])}"):
        download("vgg19", manifest={**MANIFEST, "vgg19": pinned}, log=lambda s: None, progress=None)
    assert _files(cache / "torch") == []
    assert pinned.check(_sha(info["fake"])) == "ab" * 32 and pinned.check("ab" * 32) is None


def test_http_404_and_no_network_and_dns_failure_are_one_line_errors(server, cache, monkeypatch):
    base, _, _ = server
    with pytest.raises(DownloadError, match=r"HTTP error 404") as err:
        download("vgg19", url=f"{base}/no-such-file.pth", log=lambda s: None, progress=None)
    assert "\n" not in str(err.value)
    # a closed port: connection refused
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    with pytest.raises(DownloadError) as err:
        download("vgg19", url=f"http://127.0.0.1:{closed}/{VGG19_FILENAME}", log=lambda s: None, progress=None)
    msg = str(err.value)
    assert "no internet?" in msg and str(vgg19_hub_cache_path()) in msg and "$EDGECONNECT_VGG19_WEIGHTS" in msg
    with pytest.raises(DownloadError, match="no internet?") as err:
        download("celeba", url=f"http://127.0.0.1:{closed}/x.zip", log=lambda s: None, progress=None)
    assert f"put them in {cache / 'cache' / 'authors'}/<dataset>/" in str(err.value)
    assert "drive.google.com/drive/folders/1nkLOhzWL-w2euo0U6amhz7HVzqNC5rqb" in str(err.value)
    # a failed name lookup, as without a network

    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(DownloadError, match=r"cannot reach download\.pytorch\.org .*Name or service not known.*"
                                            r"no internet\? download https://download\.pytorch\.org/models/"):
        download("vgg19", log=lambda s: None, progress=None)
    assert _files(cache / "torch") == []


def test_offline_switch_refuses_without_asking_the_server(server, cache, monkeypatch):
    base, _, info = server
    monkeypatch.setenv("EDGECONNECT_OFFLINE", "1")
    before = len(info["requests"])
    said = []
    for target in ("vgg19", "places2"):
        with pytest.raises(DownloadError, match=r"\$EDGECONNECT_OFFLINE is set: not downloading"):
            download(target, base_url=base, log=said.append, progress=None)
    assert len(info["requests"]) == before and _files(cache) == []
    assert not any("downloading" in line for line in said), said  # no download announced before the refusal


# --------------------------------------------------------------------------------------------------------
# The authors' zip: Drive's confirm page, extraction, verification by loading
# --------------------------------------------------------------------------------------------------------
def test_drive_confirm_url_reads_the_form_the_link_the_token_and_the_cookie():
    page_url = "https://drive.usercontent.google.com/download?id=X&export=download"
    form = ('<form id="download-form" action="https://drive.usercontent.google.com/download" method="get">'
            '<input type="hidden" name="id" value="X"><input type="hidden" name="confirm" value="t">'
            '<input type="hidden" name="uuid" value="u-1"><input type="submit" value="Download anyway"></form>')
    assert drive_confirm_url(form, page_url) == "https://drive.usercontent.google.com/download?id=X&confirm=t&uuid=u-1"
    link = '<a id="uc-download-link" href="/uc?export=download&amp;confirm=AbC_9&amp;id=X">Download anyway</a>'
    assert drive_confirm_url(link, "https://drive.google.com/uc?export=download&id=X") == \
        "https://drive.google.com/uc?export=download&confirm=AbC_9&id=X"
    old = "<html>... uc?export=download&confirm=Zz-1&id=X ...</html>"
    assert drive_confirm_url(old, "https://drive.google.com/uc?id=X") == "https://drive.google.com/uc?id=X&confirm=Zz-1"
    cookie = drive_confirm_url("<html>warning</html>", "https://drive.google.com/uc?id=X",
                               {"NID": "1", "download_warning_13058": "Qq"})
    assert cookie == "https://drive.google.com/uc?id=X&confirm=Qq"
    assert drive_confirm_url("<html><title>Quota exceeded</title></html>", page_url) is None


def test_drive_confirm_page_then_the_zip_extracted_and_verified(server, cache):
    base, _, info = server
    manifest = {**MANIFEST, "authors": RemoteFile("authors", f"{base}/uc?export=download&id={DRIVE_ID}",
                                                  AUTHORS_ZIP.filename, "test zip")}
    lines: list[str] = []
    start = len(info["requests"])
    # "authors" wants all three datasets; this zip holds Places2 only: extracted, then the others reported missing
    with pytest.raises(DownloadError, match=r"the zip has no checkpoints for celeba, psv \(it has places2, now in"):
        download("authors", manifest=manifest, log=lines.append, progress=None)
    asked = info["requests"][start:]
    assert asked[0].startswith("/uc?") and asked[1].startswith("/download?") and "confirm=t" in asked[1]
    folder = cache / "cache" / "authors" / "places2"
    extracted = [line for line in lines if line.startswith("places2: ")]
    assert extracted == [f"places2: {folder / n} (downloaded; verified: loads into the paper's {net} ({count} "
                         "parameters, every key and shape of the released layout))"
                         for n, net, count in zip(NAMES, ("EdgeGenerator", "InpaintGenerator", "PatchDiscriminator",
                                                          "PatchDiscriminator"),
                                                  ("10,761,089", "10,774,595", "2,762,752", "2,763,776"))]
    # only the four files and their record: no zip, no temporary file, nothing outside places2/
    assert _files(cache / "cache") == ["authors/authors-zip.sha256"] + [f"authors/places2/{n}"
                                                                         for n in sorted(NAMES + ["SHA256SUMS"])]
    sums = (folder / "SHA256SUMS").read_text().splitlines()
    assert sums == [f"{_sha((folder / n).read_bytes())}  {n}" for n in NAMES]
    assert (cache / "cache" / "authors" / "authors-zip.sha256").read_text().split()[0] == info["zip_sha"]
    assert any(info["zip_sha"] in line and "published no hash" in line for line in lines)
    # the files are the served ones, and load into the paper's networks with the same weights
    assert all((folder / n).read_bytes() == (info["nets"] / n).read_bytes() for n in NAMES)
    nets = load_authors_folder(folder)
    assert sorted(nets) == sorted(AUTHORS_FILES)
    # present and verified: nothing is fetched again
    again = download("places2", manifest=manifest, log=lines.append, progress=None)
    assert len(info["requests"]) == start + 2 and [f.path for f in again] == [folder / n for n in NAMES]
    assert not any(f.downloaded for f in again) and all("as recorded when extracted" in f.verified for f in again)
    # a changed byte fails the recorded hash, so the folder no longer counts as verified
    data = bytearray((folder / "EdgeModel_dis.pth").read_bytes())
    data[-10] ^= 0xFF
    (folder / "EdgeModel_dis.pth").write_bytes(bytes(data))
    assert verify_authors_folder(folder) is None


def test_cli_end_to_end_from_a_mirror(server, cache):
    base, _, _ = server
    dest = cache / "mine"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "edgeconnect_lib", "download", "places2", "--base-url", base, "--dest", str(dest)]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert first.returncode == 0, first.stderr
    for name in NAMES:
        assert f"places2: {dest / 'places2' / name} (downloaded; verified: loads into the paper's" in first.stdout
    assert f"authors: downloading {base}/{AUTHORS_ZIP.filename}" in first.stdout
    assert f"zip SHA-256 {_sha((server[1] / 'authors.zip').read_bytes())}" in first.stdout
    second = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert second.returncode == 0, second.stderr
    assert second.stdout.count("already present, not downloaded again") == 4 and "downloading" not in second.stdout
    # an error through the real entry point: one line, status 1
    bad = subprocess.run(cmd[:4] + ["vgg19", "--url", f"{base}/missing.pth", "--dest", str(dest)],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert bad.returncode == 1 and bad.stderr.strip().count("\n") == 0 and bad.stderr.startswith("error: ")
    assert "HTTP error 404" in bad.stderr


def test_unsafe_member_bad_zip_and_quota_page_are_refused(server, cache, tmp_path):
    base, root, _ = server
    target = tmp_path / "out" / "authors"
    with pytest.raises(DownloadError, match=r"refused, member names that leave the target folder: \['\.\./evil"):
        extract_authors_zip(root / "evil.zip", target)
    assert _files(tmp_path / "out") == [] and not (tmp_path / "out" / "evil.txt").exists()
    # through download: the zip's temporary file is removed as well
    for url, message in ((f"{base}/evil.zip", "refused"), (f"{base}/notazip.zip", "not a valid zip file"),
                         (f"{base}/quota", "answered with an HTML page \\('Quota exceeded'\\), not the file")):
        with pytest.raises(DownloadError, match=message):
            download("celeba", url=url, log=lambda s: None, progress=None)
        assert _files(cache / "cache") == [], url
    assert "--url names one file" in _usage_error(["download", "all", "--url", f"{base}/x"])


def test_a_zip_member_of_the_wrong_kind_is_not_kept(server, tmp_path):
    _, _, info = server
    bad = tmp_path / "swapped.zip"
    with zipfile.ZipFile(bad, "w", zipfile.ZIP_STORED) as z:  # a discriminator under the generator's name
        z.write(info["nets"] / "EdgeModel_dis.pth", "celeba/EdgeModel_gen.pth")
    with pytest.raises(DownloadError, match=r"celeba/EdgeModel_gen\.pth in swapped\.zip: not the authors' "
                                            r"edge_generator file of the released layout"):
        extract_authors_zip(bad, tmp_path / "authors", ["celeba"])
    assert _files(tmp_path / "authors") == []


def test_files_put_there_by_hand_are_verified_by_loading_and_recorded(server, tmp_path):
    _, _, info = server
    folder = tmp_path / "places2"
    folder.mkdir()
    for name in NAMES:
        (folder / name).write_bytes((info["nets"] / name).read_bytes())
    found = verify_authors_folder(folder)
    assert found is not None and all("loads into the paper's" in f.verified for f in found)
    sums = (folder / "SHA256SUMS").read_text().splitlines()
    assert sums == [f"{_sha((folder / n).read_bytes())}  {n}" for n in NAMES]
    (folder / "EdgeModel_gen.pth").unlink()  # incomplete: not a verified folder
    assert verify_authors_folder(folder) is None


def _usage_error(argv: list[str]) -> str:
    """The message of a usage error of the command (printed by main, status 2)."""
    import contextlib

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(argv) == 2
    return err.getvalue()


def test_weights_module_documents_its_public_names():
    undocumented = [name for name in weights.__all__ if callable(getattr(weights, name))
                    and not (getattr(weights, name).__doc__ or "").strip()]
    assert not undocumented

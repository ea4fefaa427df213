"""The training corpus (edgeconnect_lib.corpus): manifest, archive reading, checksums, content check.

None of these tests needs the network, apt or pip: the packages are small fakes made here.
"""
from __future__ import annotations

import io
import json
import re
import shutil
import struct
import subprocess
import tarfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from edgeconnect_lib import corpus
from edgeconnect_lib.corpus import CorpusEntry, CorpusError
from edgeconnect_lib.course_data import data_dir

KINDS = {"landscape", "city", "building", "interior", "animal", "plant", "object", "food", "people", "sky",
         "underwater"}


# ------------------------------------------------------------------------------------ helpers
def _photo(seed: int = 0, size: tuple[int, int] = (700, 300)) -> Image.Image:
    """A photo-like test image: smooth gradients plus blobs and fine noise (deterministic)."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w, 3))
    for c in range(3):
        img[..., c] = 80 + 60 * np.sin(x / rng.uniform(20, 60) + c) + 40 * np.cos(y / rng.uniform(15, 50))
    for _ in range(25):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(5, 40)
        img[(x - cx) ** 2 + (y - cy) ** 2 < r * r] += rng.uniform(-80, 80, 3)
    img += rng.normal(0, 6, img.shape)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def _png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _entry(name: str, path: str, data: bytes, **kw) -> CorpusEntry:
    fields = dict(name=name, package="fake-photos", version="1.0-1", source="deb", path=path,
                  sha256=corpus.sha256_bytes(data), licence="CC0-1.0", kind="landscape", note="")
    fields.update(kw)
    return CorpusEntry(**fields)


def _tar_xz(files: dict[str, bytes], links: dict[str, tuple[str, str]] | None = None) -> bytes:
    """An xz tar of ``files``, then ``links`` (name -> (\"sym\" or \"hard\", target))."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo("./" + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, (kind, target) in (links or {}).items():
            info = tarfile.TarInfo("./" + name)
            info.type = tarfile.SYMTYPE if kind == "sym" else tarfile.LNKTYPE
            info.linkname = target if kind == "sym" else "./" + target
            tar.addfile(info)
    return buf.getvalue()


def _make_deb(path: Path, files: dict[str, bytes], links: dict[str, tuple[str, str]] | None = None) -> Path:
    """A minimal Debian binary package: an ar archive of debian-binary, control.tar.xz, data.tar.xz."""
    control = b"Package: fake-photos\nVersion: 1.0-1\nArchitecture: all\nMaintainer: t <t@t>\nDescription: t\n"
    members = [("debian-binary", b"2.0\n"), ("control.tar.xz", _tar_xz({"control": control})),
               ("data.tar.xz", _tar_xz(files, links))]
    out = bytearray(b"!<arch>\n")
    for name, data in members:
        out += f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode("ascii")
        out += data + (b"\n" if len(data) % 2 else b"")
    path.write_bytes(bytes(out))
    return path


def _make_rcc(files: dict[str, tuple[bytes, bool]], folder: str = "res") -> bytes:
    """A Qt resource bundle (format 2) holding ``folder/<name>`` for each file; True = zlib-compressed."""
    names = bytearray()
    payload = bytearray()

    def add_name(n: str) -> int:
        off = len(names)
        enc = n.encode("utf-16-be")
        names.extend(struct.pack(">HI", len(n), 0) + enc)
        return off

    nodes = [struct.pack(">IHII", 0, 2, 1, 1) + b"\0" * 8,  # root: 1 child (index 1)
             struct.pack(">IHII", add_name(folder), 2, len(files), 2) + b"\0" * 8]
    for fname, (data, compress) in files.items():
        blob = struct.pack(">I", len(data)) + zlib.compress(data) if compress else data
        doff = len(payload)
        payload.extend(struct.pack(">I", len(blob)) + blob)
        nodes.append(struct.pack(">IHHHI", add_name(fname), 1 if compress else 0, 0, 0, doff) + b"\0" * 8)
    tree = b"".join(nodes)
    header_len = 20
    tree_off = header_len
    data_off = tree_off + len(tree)
    names_off = data_off + len(payload)
    return b"qres" + struct.pack(">IIII", 2, tree_off, data_off, names_off) + tree + bytes(payload) + bytes(names)


# ----------------------------------------------------------------------------------- manifest
def test_committed_manifest_is_complete():
    entries = corpus.read_manifest()  # validates columns, sha format, unique names and checksums
    assert len(entries) >= 300
    shas = [e.sha256 for e in entries]
    assert len(set(shas)) == len(shas)
    for e in entries:
        assert re.fullmatch(r"[0-9a-f]{64}", e.sha256), e
        assert e.licence.strip(), e
        assert e.kind in KINDS, e
        assert e.source in corpus.SOURCES
        assert e.path and not e.path.startswith("/")
    # no row names a val/test/held-out photo (the ones known to sit in these packages)
    protected_originals = {"BytheWater", "Bridge_by_Sander_Klootwijk", "free_by_Peter_Nerlich",
                           "greentock_by_Peter_Nerlich", "life_by_Aitzol_Berasategi", "Picture_1A_by_freespace",
                           "picosdeeuropa_by_Aitzol_Berasategi", "nature/Aqua", "nature/Wood", "nature/Blinds",
                           "nature/TwoWings", "lighthouse", "wool_mill_machine", "skyline-sf-dusk", "china.jpg",
                           "astronaut"}
    for e in entries:
        assert not any(p in e.path for p in protected_originals), e.path


def test_manifest_rejects_bad_rows(tmp_path):
    good = _entry("a.jpg", "usr/share/a.png", b"a")
    path = tmp_path / "m.csv"
    corpus.write_manifest([good], path)
    assert corpus.read_manifest(path) == [good]
    for bad, needle in [
        (good.__class__(**{**good.__dict__, "sha256": "abc"}), "64 lowercase hex"),
        (good.__class__(**{**good.__dict__, "licence": ""}), "empty licence"),
        (good.__class__(**{**good.__dict__, "source": "rpm"}), "source"),
    ]:
        corpus.write_manifest([bad], path)
        with pytest.raises(CorpusError, match=needle):
            corpus.read_manifest(path)
    twin = good.__class__(**{**good.__dict__, "name": "b.jpg"})
    corpus.write_manifest([good, twin], path)
    with pytest.raises(CorpusError, match="sha256 repeats line 2"):
        corpus.read_manifest(path)


# ------------------------------------------------------------------------------ content check
def test_content_check_flags_a_resized_recompressed_heldout_photo(tmp_path):
    heldout = sorted((data_dir() / "heldout").glob("*.jpg"))
    assert heldout
    src = heldout[0]
    with Image.open(src) as im:
        copy = im.convert("RGB")
    copy = copy.resize((copy.width * 3 // 5, copy.height * 3 // 5), Image.BILINEAR)
    copy = ImageEnhance.Brightness(copy).enhance(1.15)
    copy.save(tmp_path / "innocent_name.jpg", quality=60)
    unrelated = tmp_path / "unrelated.jpg"
    _photo(3).save(unrelated, quality=90)
    protected = corpus.protected_photos()
    assert src in protected
    hits = corpus.find_protected_matches([tmp_path / "innocent_name.jpg", unrelated], protected)
    assert [(p.name, q) for p, q, _ in hits] == [("innocent_name.jpg", src)]
    assert hits[0][2] > 0.95


def test_content_check_passes_a_course_train_photo_and_covers_val_test():
    data = data_dir()
    splits = json.loads((data / "splits.json").read_text())
    protected = corpus.protected_photos()
    for split in ("val", "test"):
        assert {data / "images" / n for n in splits[split]} <= set(protected)
    train = [data / "images" / n for n in splits["train"][:4]]
    assert not set(train) & set(protected)
    assert corpus.find_protected_matches(train, protected) == []


def test_similarity_is_one_for_the_same_photo_and_low_for_another():
    a = corpus.image_descriptor(_photo(1))
    b = corpus.image_descriptor(_photo(1).resize((350, 150), Image.LANCZOS))
    c = corpus.image_descriptor(_photo(2))
    assert corpus.similarity(a, b) > 0.95
    assert corpus.similarity(a, c) < corpus.MATCH_THRESHOLD


# ------------------------------------------------------------------------- extraction / build
def test_build_photos_from_a_package_folder_verifies_and_resizes(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "usr/share/fake").mkdir(parents=True)
    wide = _png_bytes(_photo(4, (700, 300)))
    small = _png_bytes(_photo(5, (320, 240)))
    (pkg / "usr/share/fake/wide.png").write_bytes(wide)
    (pkg / "usr/share/fake/small.png").write_bytes(small)
    entries = [_entry("fake_wide.jpg", "usr/share/fake/wide.png", wide),
               _entry("fake_small.jpg", "usr/share/fake/small.png", small)]
    out = tmp_path / "photos"
    (out).mkdir()
    (out / "stale.jpg").write_bytes(b"x")
    lines: list[str] = []
    counts = corpus.build_photos(entries, {entries[0].key: pkg}, out, log=lines.append)
    assert counts == {entries[0].key: 2}
    assert len(lines) == 1 and "fake-photos 1.0-1 (deb): 2 photos" in lines[0]
    assert sorted(p.name for p in out.iterdir()) == ["fake_small.jpg", "fake_wide.jpg"]
    with Image.open(out / "fake_wide.jpg") as im:
        assert im.format == "JPEG" and im.size == (512, 219)
    with Image.open(out / "fake_small.jpg") as im:
        assert im.size == (320, 240)


def test_build_photos_refuses_a_checksum_mismatch(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "usr/share/fake").mkdir(parents=True)
    data = _png_bytes(_photo(6))
    (pkg / "usr/share/fake/a.png").write_bytes(data)
    entry = _entry("fake_a.jpg", "usr/share/fake/a.png", b"other bytes")
    with pytest.raises(CorpusError) as err:
        corpus.build_photos([entry], {entry.key: pkg}, tmp_path / "photos", log=lambda s: None)
    msg = str(err.value)
    assert "checksum mismatch for usr/share/fake/a.png in fake-photos 1.0-1" in msg
    assert "fetch again" in msg and "\n" not in msg
    assert not (tmp_path / "photos" / "fake_a.jpg").exists()


def _reader(monkeypatch, use_dpkg: bool) -> None:
    """Read .deb files with dpkg-deb (skipped where absent) or with the pure-Python reader (dpkg-deb hidden)."""
    if use_dpkg and shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb is not installed")
    if not use_dpkg:
        real_which = shutil.which
        monkeypatch.setattr(corpus.shutil, "which", lambda n: None if n == "dpkg-deb" else real_which(n))


@pytest.mark.parametrize("use_dpkg", [False, True])
def test_read_members_from_a_real_deb(tmp_path, monkeypatch, use_dpkg):
    _reader(monkeypatch, use_dpkg)
    a, b = _png_bytes(_photo(7, (64, 48))), b"not needed"
    deb = _make_deb(tmp_path / "fake-photos_1.0-1_all.deb", {"usr/share/fake/a.png": a, "usr/share/fake/b.txt": b},
                    links={"usr/share/theme/a-sym.png": ("sym", "../fake/a.png"),
                           "usr/share/theme/a-hard.png": ("hard", "usr/share/fake/a.png"),
                           "usr/share/theme/a-chain.png": ("sym", "a-sym.png")})
    assert corpus.read_members(deb, ["usr/share/fake/a.png"]) == {"usr/share/fake/a.png": a}
    # links (Debian packages ship many: a theme's wallpaper pointing at the real file) are followed
    linked = ["usr/share/theme/a-sym.png", "usr/share/theme/a-hard.png", "usr/share/theme/a-chain.png"]
    assert corpus.read_members(deb, linked) == {n: a for n in linked}
    with pytest.raises(CorpusError, match="usr/share/fake/missing.png not found in fake-photos_1.0-1_all.deb"):
        corpus.read_members(deb, ["usr/share/fake/missing.png"])


def test_rcc_members_are_read_and_decompressed(tmp_path):
    a, b = _png_bytes(_photo(8, (64, 48))), _png_bytes(_photo(9, (48, 64)))
    bundle = corpus.read_rcc(_make_rcc({"a.png": (a, False), "b.png": (b, True)}))
    assert set(bundle) == {"res/a.png", "res/b.png"}
    assert corpus.rcc_member(bundle, "res/a.png") == a
    assert corpus.rcc_member(bundle, "/res/b.png") == b
    # and through build_photos, with the OUTER::INNER manifest path
    pkg = tmp_path / "pkg"
    (pkg / "usr/share/game").mkdir(parents=True)
    (pkg / "usr/share/game/photos.rcc").write_bytes(_make_rcc({"b.png": (b, True)}))
    entry = _entry("game_b.jpg", "usr/share/game/photos.rcc::res/b.png", b)
    corpus.build_photos([entry], {entry.key: pkg}, tmp_path / "photos", log=lambda s: None)
    assert (tmp_path / "photos" / "game_b.jpg").is_file()


# -------------------------------------------------------------------------------- fetch / CLI
def test_fetch_without_apt_get_names_the_package_and_the_fix(tmp_path, monkeypatch):
    real_which = shutil.which
    monkeypatch.setattr(corpus.shutil, "which", lambda n: None if n == "apt-get" else real_which(n))
    entry = _entry("a.jpg", "usr/share/a.png", b"a", package="mate-backgrounds", version="1.26.0-1")
    with pytest.raises(CorpusError, match=r"apt-get not found: the corpus package mate-backgrounds 1\.26\.0-1"):
        corpus.fetch_packages([entry], tmp_path, run=lambda *a, **k: pytest.fail("must not run"))


def test_fetch_of_a_missing_package_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus.shutil, "which", lambda n: "/usr/bin/" + n)
    calls = []

    def run(cmd, **kw):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 100, "", "E: Unable to locate package no-such-photos")

    entry = _entry("a.jpg", "usr/share/a.png", b"a", package="no-such-photos")
    with pytest.raises(CorpusError) as err:
        corpus.fetch_packages([entry], tmp_path, run=run)
    msg = str(err.value)
    assert "no-such-photos" in msg and "apt-get update" in msg and "Unable to locate" in msg
    assert calls[0] == ["apt-get", "download", "no-such-photos=1.0-1"]


def test_fetch_keeps_a_cached_package(tmp_path):
    (tmp_path / "debs").mkdir()
    deb = tmp_path / "debs" / "fake-photos_1%3a1.0-1_all.deb"
    deb.write_bytes(b"!<arch>\n")
    entry = _entry("a.jpg", "usr/share/a.png", b"a", version="1:1.0-1")
    got = corpus.fetch_packages([entry], tmp_path, run=lambda *a, **k: pytest.fail("must not download"))
    assert got == {entry.key: deb}


def test_cli_fetch_reports_a_mismatch_in_one_line(tmp_path, monkeypatch, capsys):
    pkg = tmp_path / "pkg"
    (pkg / "usr/share/fake").mkdir(parents=True)
    data = _png_bytes(_photo(10))
    (pkg / "usr/share/fake/a.png").write_bytes(data)
    good = _entry("fake_a.jpg", "usr/share/fake/a.png", data)
    manifest = tmp_path / "manifest.csv"
    monkeypatch.setattr(corpus, "fetch_packages", lambda entries, cache, **kw: {e.key: pkg for e in entries})

    corpus.write_manifest([good], manifest)
    rc = corpus.main(["fetch", "--cache", str(tmp_path / "cache"), "--manifest", str(manifest)])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "fake-photos 1.0-1 (deb): 1 photo from" in out.out
    assert "1 photo from 1 package in" in out.out and "none matches" in out.out

    corpus.write_manifest([CorpusEntry(**{**good.__dict__, "sha256": "0" * 64})], manifest)
    rc = corpus.main(["fetch", "--cache", str(tmp_path / "cache"), "--manifest", str(manifest)])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith("corpus: error: checksum mismatch for usr/share/fake/a.png in fake-photos")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_cli_fetch_refuses_a_heldout_photo_in_the_corpus(tmp_path, monkeypatch, capsys):
    heldout = sorted((data_dir() / "heldout").glob("*.jpg"))[0]
    data = heldout.read_bytes()
    pkg = tmp_path / "pkg"
    (pkg / "usr/share/fake").mkdir(parents=True)
    (pkg / "usr/share/fake/renamed.jpg").write_bytes(data)
    manifest = tmp_path / "manifest.csv"
    corpus.write_manifest([_entry("renamed.jpg", "usr/share/fake/renamed.jpg", data)], manifest)
    monkeypatch.setattr(corpus, "fetch_packages", lambda entries, cache, **kw: {e.key: pkg for e in entries})
    rc = corpus.main(["fetch", "--cache", str(tmp_path / "cache"), "--manifest", str(manifest)])
    err = capsys.readouterr().err
    assert rc == 1 and f"renamed.jpg ~ heldout/{heldout.name}" in err and err.count("\n") == 1


def test_dep5_licence_takes_the_last_matching_stanza():
    text = ("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
            "Files: *\nCopyright: someone\nLicense: GPL-3+\n\n"
            "Files: src/photos/*\nCopyright: a\nLicense: CC-BY-SA-3.0\n\n"
            "Files: src/photos/owl.jpg\n src/photos/cat.png\nCopyright: b\nLicense: CC0-1.0\n")
    assert corpus.dep5_licence(text, "src/photos/dog.webp") == "CC-BY-SA-3.0"
    assert corpus.dep5_licence(text, "src/photos/owl.webp") == "CC0-1.0"  # converted at build time
    assert corpus.dep5_licence(text, "src/photos/cat.png") == "CC0-1.0"
    assert corpus.dep5_licence(text, "README") == "GPL-3+"


@pytest.mark.parametrize("use_dpkg", [False, True])
def test_a_corrupt_deb_is_named_with_the_fix(tmp_path, monkeypatch, use_dpkg):
    _reader(monkeypatch, use_dpkg)
    bad = tmp_path / "broken_1.0_all.deb"
    bad.write_bytes(b"<html>proxy error</html>")
    with pytest.raises(CorpusError, match=r"broken_1\.0_all\.deb.*delete it and fetch again"):
        corpus.read_members(bad, ["usr/share/a.png"])

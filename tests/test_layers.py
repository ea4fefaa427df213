"""The library reads top-down: each module imports only from modules of a lower layer, never a private name.

Layers (lowest first): the error types and the environment settings -> the settings checks and helpers -> atomic
file writes, edges, VGG, the pull-push fill -> masks (written with the one image writer), networks, losses, metrics (the in-hole scores
use Canny), mixed precision, compilation, classical baselines -> data, config, the authors' checkpoint format -> our
checkpoint formats -> the inference pipeline,
run folders -> the trainable models -> training, evaluation -> editor, InGAN -> lessons' runner and the CLI. A new module must be
placed in :data:`LAYERS` (the test fails until it is), so its place in the order is a decision, not an accident.

A subpackage (``ingan/``) has one place in :data:`LAYERS`, which its every module holds against the rest of the
library, and an order of its own modules in :data:`SUBPACKAGE_LAYERS`, which holds between them; its
``__init__`` (re-exporting the others) is its top. Modules are named ``ingan.config``, ``ingan.__init__``, ...
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import edgeconnect_lib

PACKAGE = Path(edgeconnect_lib.__file__).parent
LIBRARY = edgeconnect_lib.__name__

LAYERS: dict[str, int] = {
    "errors": -1, "settings": -1,
    "__init__": 0, "options": 0, "utils": 0, "images": 0, "course_data": 0, "plotting": 0,
    "fileio": 1, "edges": 1, "vgg": 1, "blending": 1, "bootstrap": 1, "prefill": 1,
    "masks": 2, "corpus": 2, "networks": 2, "losses": 2, "metrics": 2, "precision": 2, "baselines": 2, "compilation": 2,
    "data": 3, "config": 3, "authors_format": 3,
    "checkpoints": 4, "weights": 4, "cli_files": 4,
    "runs": 5, "pipeline": 5,
    "models": 6,
    "train": 7, "evaluation": 7,
    "ablations": 8, "editor": 8, "ingan": 8,
    "course": 9, "__main__": 9,
}


#: Order of each subpackage's own modules (lowest first); against other modules each counts as the package.
SUBPACKAGE_LAYERS: dict[str, dict[str, int]] = {
    "ingan": {
        "config": 0, "geometry": 0, "metrics": 0,
        "photo": 1, "networks": 1, "gpnn": 1, "figures": 1,
        "losses": 2, "inference": 2,
        "trainer": 3,
        "cli": 4,
        "__init__": 5,
    },
}


def _modules() -> list[str]:
    """Every module of the library: ``models``, ..., and ``pkg.name`` for the modules of a subpackage."""
    top = [p.stem for p in PACKAGE.glob("*.py")]
    sub = [f"{p.parent.name}.{p.stem}" for p in PACKAGE.glob("*/*.py") if (p.parent / "__init__.py").exists()]
    return sorted(top + sub)


def _path(name: str) -> Path:
    """The file of module ``name`` (``ingan.config`` -> ``ingan/config.py``)."""
    return PACKAGE / f"{name.replace('.', '/')}.py"


def _module_key(parts: list[str]) -> str:
    """The module that ``edgeconnect_lib.<parts>`` names: a top-level module, or ``pkg.x`` (``pkg.__init__`` for
    the package itself)."""
    if len(parts) > 1 or (parts and (PACKAGE / parts[0]).is_dir()):
        return f"{parts[0]}.{parts[1] if len(parts) > 1 else '__init__'}"
    return parts[0] if parts else "__init__"


def _resolve(importer: str, level: int, module: str | None) -> str | None:
    """The library module that ``from <level dots><module> import ...`` in module ``importer`` reads from."""
    package = importer.split(".")[:-1]                      # "ingan.config" -> ["ingan"], "models" -> []
    if level - 1 > len(package):
        return None                                         # above edgeconnect_lib: not the library
    base = package[:len(package) - (level - 1)]
    return _module_key(base + (module.split(".") if module else []))


def _imports(name: str) -> list[tuple[str, list[str], int]]:
    """(imported module, imported names, line) of every import from the library in module ``name``: relative
    (``from .x import a``, ``from ..x import a``, ``from . import x as _x``) or absolute (``edgeconnect_lib.x``)."""
    tree = ast.parse(_path(name).read_text(), filename=f"{name}.py")
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level >= 1:
            if node.module:  # from .x import a, b
                mod = _resolve(name, node.level, node.module)
                if mod is not None:
                    found.append((mod, [a.name for a in node.names], node.lineno))
            else:  # from . import x as _x
                found += [(m, [], node.lineno) for a in node.names
                          if (m := _resolve(name, node.level, a.name)) is not None]
        elif isinstance(node, ast.ImportFrom) and node.module == LIBRARY:  # from edgeconnect_lib import x
            found += [(_module_key([a.name]), [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == LIBRARY:
            found.append((_module_key(node.module.split(".")[1:]), [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            found += [(_module_key(a.name.split(".")[1:]), [], node.lineno) for a in node.names
                      if a.name.split(".")[0] == LIBRARY]
    return found


def _module_aliases(name: str) -> dict[str, str]:
    """Local names bound to library modules by ``from . import x as y``."""
    tree = ast.parse(_path(name).read_text())
    return {a.asname or a.name: m for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level >= 1 and not node.module for a in node.names
            if (m := _resolve(name, node.level, a.name)) is not None}


def _layer(name: str) -> int:
    """A module's layer against the rest of the library (a subpackage's modules: the package's)."""
    return LAYERS.get(name.split(".")[0], 99)


def _below(importer: str, imported: str) -> bool:
    """Whether ``imported`` is of a lower layer than ``importer`` (within one subpackage: its own order)."""
    pkg, pkg2 = importer.partition(".")[0], imported.partition(".")[0]
    if "." in importer and "." in imported and pkg == pkg2:
        order = SUBPACKAGE_LAYERS.get(pkg, {})
        return order.get(imported.split(".")[1], 99) < order.get(importer.split(".")[1], -1)
    return _layer(imported) < _layer(importer)


def test_every_module_has_a_layer():
    missing = [m for m in _modules() if m.split(".")[0] not in LAYERS
               or ("." in m and m.split(".")[1] not in SUBPACKAGE_LAYERS.get(m.split(".")[0], {}))]
    assert not missing, f"place these modules in LAYERS / SUBPACKAGE_LAYERS (tests/test_layers.py): {missing}"


def test_every_layer_entry_is_a_module():
    """A name in :data:`LAYERS` or :data:`SUBPACKAGE_LAYERS` that no file holds is a stale entry (or a typo that
    would leave the real module unplaced)."""
    present = {m.split(".")[0] for m in _modules()}
    stale = sorted(set(LAYERS) - present)
    stale += sorted(f"{pkg}.{m}" for pkg, order in SUBPACKAGE_LAYERS.items() for m in order
                    if f"{pkg}.{m}" not in _modules())
    assert not stale, f"LAYERS / SUBPACKAGE_LAYERS list modules that do not exist: {stale}"


@pytest.mark.parametrize("name", _modules())
def test_imports_point_down(name):
    pkg, _, sub = name.partition(".")
    here = f"{_layer(name)}" + (f", {SUBPACKAGE_LAYERS.get(pkg, {}).get(sub)} in {pkg}/" if sub else "")
    upward = [(mod, line) for mod, _, line in _imports(name) if mod != name and not _below(name, mod)]
    assert not upward, f"{name}.py (layer {here}) imports from a module of its own or a higher layer: {upward}"


@pytest.mark.parametrize("name", _modules())
def test_no_private_name_crosses_a_module_boundary(name):
    private = [(mod, n, line) for mod, names, line in _imports(name) for n in names
               if n.startswith("_") and not n.startswith("__")]
    aliases = _module_aliases(name)
    tree = ast.parse(_path(name).read_text())
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            private.append((aliases[node.value.id], node.attr, node.lineno))
    assert not private, f"{name}.py uses private names of other modules: {private}"


def test_the_checker_sees_a_circle(tmp_path, monkeypatch):
    """The layer rule would catch the old circle (models importing checkpoint I/O from train)."""
    (tmp_path / "models.py").write_text("from .train import atomic_save\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path)
    with pytest.raises(AssertionError, match="higher layer"):
        test_imports_point_down("models")


def _fake_package(tmp_path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)


@pytest.mark.parametrize("files, name", [
    ({"ingan/__init__.py": "", "ingan/networks.py": "from .trainer import InGANTrainer\n"}, "ingan.networks"),
    ({"ingan/__init__.py": "", "ingan/losses.py": "from .losses import x\nfrom .cli import run\n"}, "ingan.losses"),
    ({"ingan/__init__.py": "", "ingan/config.py": "from ..ablations import run_ablations\n"}, "ingan.config"),
    ({"ingan/__init__.py": "", "ingan/config.py": "from ..course import x\n"}, "ingan.config"),
    ({"ingan/__init__.py": "", "ingan/geometry.py": "from edgeconnect_lib.ingan.trainer import x\n"}, "ingan.geometry"),
    ({"ingan/__init__.py": "", "ingan/geometry.py": "from edgeconnect_lib import ingan\n"}, "ingan.geometry"),
    ({"ingan/__init__.py": "", "ingan/geometry.py": "import edgeconnect_lib.course\n"}, "ingan.geometry"),
    ({"ingan/__init__.py": "", "ingan/photo.py": "from . import trainer\n"}, "ingan.photo"),
    ({"ingan/__init__.py": "", "models.py": "from .ingan import InGAN\n"}, "models"),
    ({"ingan/__init__.py": "", "models.py": "from .ingan.config import InGANConfig\n"}, "models"),
])
def test_the_checker_sees_a_subpackage_import_upward(tmp_path, monkeypatch, files, name):
    """Within ``ingan/`` its own order holds; against the library, the package's layer (8) does, both ways."""
    _fake_package(tmp_path, files)
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path)
    with pytest.raises(AssertionError, match="higher layer"):
        test_imports_point_down(name)


def test_the_checker_lets_a_subpackage_import_down(tmp_path, monkeypatch):
    _fake_package(tmp_path, {"ingan/__init__.py": "from .cli import run\n",
                             "ingan/trainer.py": "from ..checkpoints import atomic_save\nfrom .networks import G\n"
                                                 "from . import config\nimport edgeconnect_lib.utils\n"})
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path)
    test_imports_point_down("ingan.__init__")
    test_imports_point_down("ingan.trainer")
    assert {m for m, _, _ in _imports("ingan.trainer")} == {"checkpoints", "ingan.networks", "ingan.config", "utils"}


@pytest.mark.parametrize("text", ["from .photo import _to_tensor\n", "from ..losses import _weighted\n",
                                  "from . import photo\nx = photo._to_tensor\n"])
def test_the_checker_sees_a_private_name_in_a_subpackage(tmp_path, monkeypatch, text):
    _fake_package(tmp_path, {"ingan/__init__.py": "", "ingan/trainer.py": text})
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path)
    with pytest.raises(AssertionError, match="private names"):
        test_no_private_name_crosses_a_module_boundary("ingan.trainer")


def test_the_checker_walks_the_subpackage():
    assert {"ingan.__init__", "ingan.config", "ingan.trainer", "ingan.cli"} <= set(_modules())
    assert "ingan" not in _modules()

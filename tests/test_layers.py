"""The library reads top-down: each module imports only from modules of a lower layer, never a private name.

Layers (lowest first): helpers and file formats -> edges, masks, metrics, VGG -> data, networks, losses ->
config, checkpoint files -> models -> training, evaluation -> lessons' runner and the CLI. A new module must be
placed in :data:`LAYERS` (the test fails until it is), so its place in the order is a decision, not an accident.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import edgeconnect_lib

PACKAGE = Path(edgeconnect_lib.__file__).parent

LAYERS: dict[str, int] = {
    "__init__": 0, "utils": 0, "images": 0, "course_data": 0, "plotting": 0,
    "edges": 1, "masks": 1, "metrics": 1, "vgg": 1, "blending": 1,
    "data": 2, "networks": 2, "losses": 2,
    "config": 3, "checkpoints": 3,
    "models": 4, "weights": 4,
    "train": 5, "evaluation": 5, "baselines": 5,
    "ablations": 6, "editor": 6, "ingan": 6,
    "course": 7, "__main__": 7,
}


def _modules() -> list[str]:
    return sorted(p.stem for p in PACKAGE.glob("*.py"))


def _imports(name: str) -> list[tuple[str, list[str], int]]:
    """(imported module, imported names, line) of every relative import in module ``name``."""
    tree = ast.parse((PACKAGE / f"{name}.py").read_text(), filename=f"{name}.py")
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:  # from .x import a, b
                found.append((node.module.split(".")[0], [a.name for a in node.names], node.lineno))
            else:  # from . import x as _x
                found += [(a.name, [], node.lineno) for a in node.names]
    return found


def _module_aliases(name: str) -> dict[str, str]:
    """Local names bound to library modules by ``from . import x as y``."""
    tree = ast.parse((PACKAGE / f"{name}.py").read_text())
    return {a.asname or a.name: a.name for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 1 and not node.module for a in node.names}


def test_every_module_has_a_layer():
    missing = [m for m in _modules() if m not in LAYERS]
    assert not missing, f"place these modules in LAYERS (tests/test_layers.py): {missing}"


@pytest.mark.parametrize("name", _modules())
def test_imports_point_down(name):
    here = LAYERS[name]
    upward = [(mod, line) for mod, _, line in _imports(name) if LAYERS.get(mod, 99) >= here and mod != name]
    assert not upward, f"{name}.py (layer {here}) imports from a module of its own or a higher layer: {upward}"


@pytest.mark.parametrize("name", _modules())
def test_no_private_name_crosses_a_module_boundary(name):
    private = [(mod, n, line) for mod, names, line in _imports(name) for n in names
               if n.startswith("_") and not n.startswith("__")]
    aliases = _module_aliases(name)
    tree = ast.parse((PACKAGE / f"{name}.py").read_text())
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

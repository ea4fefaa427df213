"""The install is reproducible: one lock file, used by `make setup` and environment.yml, pins every dependency."""
from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "constraints.txt"


def _pins() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not pinned with =="
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def _requirement_names() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    return [re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", r).group(0)).lower() for r in reqs]


def test_every_dependency_is_pinned():
    pins = _pins()
    missing = [n for n in _requirement_names() if n not in pins]
    assert not missing, f"pyproject.toml dependencies missing from constraints.txt (run `make lock`): {missing}"
    assert pins["torch"] == "2.13.0", "torch is pinned without its local tag (+cpu / +cu12x)"


def test_setup_and_conda_use_the_lock_file():
    makefile = (ROOT / "Makefile").read_text()
    assert "-c $(LOCK)" in makefile and "LOCK ?= constraints.txt" in makefile
    env = (ROOT / "environment.yml").read_text()
    assert "- -c constraints.txt" in env and "- -e .[dev]" in env
    torch_pin = re.search(r"torch==([0-9.]+)", env).group(1)
    assert torch_pin == _pins()["torch"], "environment.yml and constraints.txt disagree on torch"


def test_this_environment_is_the_locked_one():
    """Where `make setup` built this environment, the versions the lessons depend on are the pinned ones."""
    pins = _pins()
    for name in ("numpy", "opencv-python-headless", "scipy", "scikit-image", "matplotlib", "nbval", "papermill"):
        installed = metadata.version(name)
        assert installed == pins[name], (f"{name} {installed} is installed but constraints.txt pins {pins[name]}: "
                                         "run `make setup` in a fresh venv (rm -rf .venv), or `make lock` to move the pins")

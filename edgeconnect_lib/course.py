"""Run the course's lessons headless, and refresh the outputs committed with them.

``python -m edgeconnect_lib.course run --out executed``
    executes every lesson in ``notebooks/`` in order with papermill, writes the
    executed copies to ``executed/`` and prints one line per lesson (ok/failed, seconds).
``python -m edgeconnect_lib.course refresh notebooks/01_canny_edge_labels.ipynb``
    re-executes a lesson in place with its default parameters, keeping clean
    metadata, so that nbval can check the stored outputs.

The kernel each lesson runs in talks to this process over ZeroMQ. Over plain TCP, ipykernel (>= 7) prints a
warning to the terminal at every start ("Kernel is running over TCP without encryption"), one per lesson;
:func:`kernel_config` starts it with CurveZMQ keys instead (jupyter_client's ``transport_encryption``, when
pyzmq has Curve and the kernelspec declares it), else over local IPC sockets, so that ``make course`` prints
one line per lesson.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

__all__ = ["LessonRun", "list_lessons", "run_course", "refresh_notebook", "kernel_config", "main"]

KERNEL = "python3"


@dataclass
class LessonRun:
    """The outcome of running one lesson."""

    name: str
    ok: bool
    seconds: float
    output: Path
    error: str = ""

    def line(self) -> str:
        status = "ok" if self.ok else "FAILED"
        tail = f"  {self.error}" if self.error else ""
        return f"{self.name:<40s} {status:<7s} {self.seconds:7.1f} s{tail}"


def kernel_config(kernel_name: str = KERNEL) -> Any:
    """The kernel manager's settings for a lesson's kernel: an encrypted or local transport, not plain TCP.

    CurveZMQ keys provisioned by the kernel manager (``transport_encryption = "auto"``) when pyzmq is built with
    Curve and the kernelspec lists ``"curve"`` in ``metadata.supported_encryption`` (ipykernel >= 7 does);
    otherwise IPC sockets (files in Jupyter's runtime folder) on POSIX systems; otherwise plain TCP, as before.
    Returns a :class:`traitlets.config.Config` for papermill / nbclient (their ``config`` argument).
    """
    import os

    import zmq
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    from traitlets.config import Config

    cfg = Config()
    try:
        metadata = KernelSpecManager().get_kernel_spec(kernel_name).metadata or {}
    except NoSuchKernel:
        metadata = {}
    declared = metadata.get("supported_encryption") or ()
    declared = {declared.lower()} if isinstance(declared, str) else {str(d).lower() for d in declared}
    if zmq.has("curve") and "curve" in declared and KernelManager.class_traits().get("transport_encryption"):
        cfg.KernelManager.transport_encryption = "auto"
    elif os.name == "posix":
        cfg.KernelManager.transport = "ipc"
    return cfg


def notebooks_dir() -> Path:
    """The repository's ``notebooks/`` folder."""
    return Path(__file__).resolve().parent.parent / "notebooks"


def list_lessons(folder: Path | None = None, only: Sequence[str] = ()) -> list[Path]:
    """Numbered lessons (``NN_name.ipynb``) in ``folder``, in order; ``only`` filters by prefix or name."""
    folder = Path(folder) if folder else notebooks_dir()
    lessons = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if only:
        lessons = [p for p in lessons if any(p.name.startswith(o) or p.stem == o for o in only)]
    if not lessons:
        raise FileNotFoundError(f"no lessons found in {folder} (expected files like 01_canny_edge_labels.ipynb)")
    return lessons


def run_course(
    out_dir: Path,
    folder: Path | None = None,
    parameters: dict[str, Any] | None = None,
    only: Sequence[str] = (),
    cell_timeout: int = 1800,
) -> list[LessonRun]:
    """Execute the lessons in order with papermill; write executed copies to ``out_dir``.

    ``parameters`` are passed to every lesson (papermill ignores the ones a lesson lacks,
    with a warning). A failing lesson does not stop the others; its executed copy, with
    papermill's error banner, is kept in ``out_dir`` for the user to open.
    """
    import papermill as pm

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = []
    config = kernel_config()
    for nb in list_lessons(folder, only):
        dst = out_dir / nb.name
        t0 = time.perf_counter()
        try:
            pm.execute_notebook(
                str(nb), str(dst), parameters=parameters or {}, kernel_name=KERNEL,
                cwd=str(nb.parent), progress_bar=False, execution_timeout=cell_timeout, config=config,
            )
            run = LessonRun(nb.stem, True, time.perf_counter() - t0, dst)
        except Exception as err:  # noqa: BLE001 - report every failure, keep going
            msg = getattr(err, "ename", type(err).__name__) + ": " + str(getattr(err, "evalue", err)).splitlines()[0][:160]
            run = LessonRun(nb.stem, False, time.perf_counter() - t0, dst, msg)
        print(run.line(), flush=True)
        runs.append(run)
    return runs


def _clean_metadata(nb: Any) -> None:
    """Drop execution timing / papermill metadata so committed notebooks diff cleanly."""
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for key in ("execution", "papermill", "collapsed", "scrolled"):
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            for out in cell.get("outputs", []):
                out.get("metadata", {}).pop("papermill", None)


def refresh_notebook(path: Path, timeout: int = 1800) -> float:
    """Execute ``path`` in place with its default parameters; return the seconds it took."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": KERNEL}
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name=KERNEL, resources={"metadata": {"path": str(path.parent)}},
                   config=kernel_config()).execute()
    seconds = time.perf_counter() - t0
    _clean_metadata(nb)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    if errors:
        raise RuntimeError(f"{path}: a cell raised {errors[0].ename}: {errors[0].evalue}")
    nbformat.write(nb, path)
    return seconds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edgeconnect_lib.course", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute every lesson headless with papermill")
    run.add_argument("--out", type=Path, default=Path("executed"), help="folder for the executed copies")
    run.add_argument("--only", nargs="*", default=[], help="lesson prefixes to run, e.g. 01 02")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                     help="override a parameter in every lesson (VALUE is read as JSON, else as a string)")
    ref = sub.add_parser("refresh", help="re-execute lessons in place with default parameters")
    ref.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)

    if args.command == "run":
        params: dict[str, Any] = {}
        for name, value in args.parameter:
            try:
                params[name] = json.loads(value)
            except json.JSONDecodeError:
                params[name] = value
        t0 = time.perf_counter()
        runs = run_course(args.out, parameters=params, only=args.only)
        failed = [r for r in runs if not r.ok]
        print(f"{len(runs) - len(failed)} passed, {len(failed)} failed in {time.perf_counter() - t0:.0f} s; "
              f"executed copies in {args.out}/")
        return 1 if failed else 0
    for nb in args.notebooks:
        print(f"{nb}: refreshed in {refresh_notebook(nb):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One run folder's lifecycle, shared by both trainers (:class:`~edgeconnect_lib.train.Trainer` and
:class:`~edgeconnect_lib.ingan.InGANTrainer`): the guard against a folder that holds another run, resume,
atomic checkpoints pruned to the last ``keep_last``, ``config.json`` and the CSV logs.

A run folder holds::

    checkpoints/ckpt_00000100.pt   the last keep_last checkpoints (atomic writes: never a half-written file)
    config.json                    the run's settings
    log.csv, val.csv, ...          one row per logged iteration (:class:`CsvLog`)

Usage (what a trainer does)::

    run = RunFolder(out_dir, resume=True, keep_last=3, log=print)
    ckpt = run.resume_checkpoint()      # None: a fresh run; else the newest readable checkpoint
    run.check_fresh_or_resume(ckpt)     # ValueError when the folder holds another run
    ...restore ckpt...
    run.write_config(cfg.to_dict()); log = run.csv_log("log.csv", iteration)  # continued after a resume
    run.save(checkpoint_dict, iteration)  # atomic, then prune

Two runs never mix in one folder: a folder that holds checkpoints is refused unless the run resumes one of
them (a fresh run there would replace ``log.csv`` and ``config.json`` while loaders pick the other run's
newer checkpoints, and so would resuming a checkpoint from elsewhere into it).
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Callable

import torch

from .checkpoints import latest_checkpoint, list_checkpoints, load_checkpoint, readable_checkpoint
from .errors import UsageError
from .fileio import atomic_save, suppress_os_errors

__all__ = ["RunFolder", "CsvLog", "seconds_in_log", "UNREADABLE_SUFFIX", "checkpoint_name"]

#: Suffix given to an unreadable checkpoint that a resume skipped (kept for inspection, out of the rotation).
UNREADABLE_SUFFIX = ".unreadable"


def checkpoint_name(iteration: int) -> str:
    """``ckpt_NNNNNNNN.pt``: the file name of the checkpoint at ``iteration`` (the order of the names is theirs)."""
    return f"ckpt_{int(iteration):08d}.pt"


class RunFolder:
    """The files of one training run under ``out_dir`` (``None``: a run that writes nothing).

    ``resume``: ``False`` (a fresh run), ``True`` (the newest readable checkpoint of ``out_dir``, if any), a
    checkpoint file or a run folder (its newest readable checkpoint), or a checkpoint already read (a dict
    from :func:`~edgeconnect_lib.checkpoints.load_checkpoint`, not read again). ``keep_last``: how many
    checkpoints :meth:`save` keeps. ``main``: this process writes (rank 0 of a distributed run; the others
    only read). ``log``: where status lines go (skipped checkpoints). ``map_location``: where a resumed
    checkpoint's tensors are loaded.
    """

    def __init__(self, out_dir: str | Path | None, resume: bool | str | Path | dict | None = False,
                 keep_last: int = 3, *, main: bool = True, log: Callable[[str], Any] = print,
                 map_location: str | torch.device = "cpu") -> None:
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.resume = resume if resume is not None else False
        self.keep_last = int(keep_last)
        self.main, self.log, self.map_location = main, log, map_location
        self.resumed_from: Path | None = None

    @property
    def checkpoints_dir(self) -> Path | None:
        return self.out_dir / "checkpoints" if self.out_dir is not None else None

    # -- the guard -----------------------------------------------------------------------------------------
    def check_fresh_or_resume(self, ckpt: dict | None) -> None:
        """Refuse (``ValueError``) an ``out_dir`` that holds checkpoints unless ``ckpt`` (the checkpoint this run
        resumes, ``None`` for a fresh run) is one of them: two runs never mix in one folder. Passed, a resume
        removes the temporary files of a checkpoint write that a crash or a kill interrupted."""
        if self.out_dir is not None and latest_checkpoint(self.out_dir) is not None:
            if ckpt is None:
                raise UsageError(f"{self.out_dir} already holds checkpoints of an earlier run: resume it "
                                 "(resume=True) or choose another output folder")
            source = Path(str(ckpt.get("path", "")))
            own = {p.resolve() for p in list_checkpoints(self.out_dir)}
            if ckpt.get("path") is not None and source.resolve() not in own:
                raise UsageError(f"{self.out_dir} already holds checkpoints of an earlier run: resuming {source} "
                                 "into it would mix two runs; resume that folder's own run (resume=True), or resume "
                                 "into another output folder")
        if ckpt is not None:
            self._remove_temporary_files()

    # -- resume --------------------------------------------------------------------------------------------
    def resume_checkpoint(self) -> dict | None:
        """The checkpoint to resume from (``None``: nothing to resume, a fresh run).

        ``resume=True`` -> the newest readable checkpoint of ``out_dir``; a folder -> its newest readable one;
        newer, unreadable ones are named through ``log`` and renamed ``*.unreadable`` (kept for inspection, out
        of the rotation), and a folder whose checkpoints are all unreadable is a ``ValueError``. A file -> that
        file.
        """
        resume = self.resume
        if resume is False:
            return None
        if isinstance(resume, dict):  # a checkpoint already read: not read again
            ckpt = resume
        else:
            ckpt = self._read(resume)
        if ckpt is not None and ckpt.get("path") is not None:
            self.resumed_from = Path(str(ckpt["path"]))
        return ckpt

    def _read(self, resume: bool | str | Path) -> dict | None:
        if resume is not True and Path(resume).is_file():
            return load_checkpoint(resume, map_location=self.map_location)
        if resume is True and self.out_dir is None:
            return None
        folder = self.out_dir if resume is True else Path(resume)
        if resume is not True and not folder.is_dir():
            raise FileNotFoundError(f"resume={str(resume)!r}: no such checkpoint file or run folder")
        ckpt, skipped = readable_checkpoint(folder, map_location=self.map_location)
        for path, why in skipped:
            self.log(f"skipped unreadable checkpoint {path}: {why}")
            if self.main and ckpt is not None:
                with suppress_os_errors():
                    path.rename(path.with_name(path.name + UNREADABLE_SUFFIX))
        if ckpt is None and skipped:
            raise UsageError(f"none of the {len(skipped)} checkpoint(s) in {folder} can be read (newest: "
                             f"{skipped[0][1]}); resume from a good file with resume=PATH or "
                             "start afresh in another output folder")
        if ckpt is not None and skipped:
            self.log(f"resuming from {ckpt['path']}, the newest readable checkpoint (the unreadable ones are "
                     f"kept as *{UNREADABLE_SUFFIX})")
        return ckpt

    def _remove_temporary_files(self) -> None:
        """Temporary files of a checkpoint write interrupted by a crash or a kill (never listed as checkpoints)."""
        if self.main and self.checkpoints_dir is not None:
            for tmp in self.checkpoints_dir.glob(".ckpt_*.tmp"):
                with suppress_os_errors():
                    tmp.unlink()

    def seconds_before(self, ckpt: dict) -> float:
        """Training seconds of the run up to ``ckpt``: its ``seconds``, else (older checkpoints) ``log.csv``'s."""
        seconds = ckpt.get("seconds")
        if seconds is not None:
            return float(seconds)
        if self.out_dir is None:
            return 0.0
        return seconds_in_log(self.out_dir / "log.csv", int(ckpt.get("iteration", 0)))

    # -- writing -------------------------------------------------------------------------------------------
    def checkpoint_path(self, iteration: int) -> Path:
        if self.checkpoints_dir is None:
            raise UsageError("no out_dir was given: this run writes no checkpoint")
        return self.checkpoints_dir / checkpoint_name(iteration)

    def save(self, obj: dict[str, Any], iteration: int, *, last_good: Path | None = None) -> Path:
        """Write ``obj`` to ``checkpoints/ckpt_NNNNNNNN.pt`` atomically (``main`` only), then keep the last
        ``keep_last`` checkpoints; returns the path.

        A failed write (disk full, read-only, permission) raises ``OSError`` naming the file and the cause, and
        ``last_good`` (the last good checkpoint) in its message; the earlier checkpoints are left as they were
        (nothing is pruned).
        """
        path = self.checkpoint_path(iteration)
        if not self.main:
            return path
        try:
            atomic_save(obj, path)
        except OSError as err:
            kept = f"the last good checkpoint is {last_good}" if last_good else "no checkpoint was written yet"
            raise OSError(err.errno, f"{err.strerror}; training stopped at iteration {iteration} and {kept}"
                          " (fix the cause, then resume the run)", err.filename) from err
        self.prune()
        return path

    def prune(self) -> None:
        """Delete all but the last ``keep_last`` checkpoints (``*.unreadable`` files are never counted)."""
        if self.main and self.out_dir is not None and self.keep_last > 0:
            for old in list_checkpoints(self.out_dir)[:-self.keep_last]:
                with suppress_os_errors():
                    old.unlink()

    def write_config(self, config: dict[str, Any]) -> Path | None:
        """Write ``config.json`` (``main`` only), creating ``out_dir``."""
        if self.out_dir is None or not self.main:
            return None
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / "config.json"
        path.write_text(json.dumps(config, indent=2) + "\n")
        return path

    def csv_log(self, name: str, iteration: int) -> "CsvLog | None":
        """The CSV log ``out_dir/name`` (``None`` when this process writes nothing): after a resume, continued
        from ``iteration`` (the rows after it dropped: they are redone); for a fresh run, started afresh."""
        if self.out_dir is None or not self.main:
            return None
        self.out_dir.mkdir(parents=True, exist_ok=True)
        return CsvLog(self.out_dir / name, int(iteration) if self.resumed_from is not None else None)


# ----------------------------------------------------------------------------------------------------------
# Logs
# ----------------------------------------------------------------------------------------------------------
class CsvLog:
    """Append rows to a CSV file; on resume, rows after the checkpoint's iteration are dropped (they are redone).

    Used by the EdgeConnect trainer (``log.csv``, ``val.csv``) and by :mod:`edgeconnect_lib.ingan`."""

    def __init__(self, path: Path, resume_iteration: int | None) -> None:
        self.path, self.fields = path, None
        if resume_iteration is not None and path.is_file():
            with path.open(newline="") as f:
                rows = list(csv.DictReader(f))
            if rows:
                self.fields = list(rows[0].keys())
                # a row cut short by a kill has missing fields (None): drop it with the rows after the checkpoint
                keep = [r for r in rows if None not in r.values() and None not in r
                        and r["iteration"].isdigit() and int(r["iteration"]) <= resume_iteration]
                self._rewrite(keep)
        elif path.exists():
            path.unlink()

    def _rewrite(self, rows: list[dict]) -> None:
        with self.path.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self.fields)
            w.writeheader()
            w.writerows(rows)

    def write(self, row: dict[str, Any]) -> None:
        new = self.fields is None
        if new:
            self.fields = list(row)
        extra = [k for k in row if k not in self.fields]
        if extra:  # a new column (e.g. first validation metric): rewrite with the wider header
            with self.path.open(newline="") as f:
                rows = list(csv.DictReader(f))
            self.fields += extra
            self._rewrite(rows)
            new = False
        with self.path.open("a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self.fields)
            if new:
                w.writeheader()
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})


def seconds_in_log(path: Path, iteration: int) -> float:
    """``seconds`` of the last ``log.csv`` row at or before ``iteration`` (checkpoints without a time), else 0."""
    try:
        with path.open(newline="") as f:
            rows = [r for r in csv.DictReader(f) if (r.get("iteration") or "").isdigit()
                    and int(r["iteration"]) <= iteration]
        return float(rows[-1]["seconds"]) if rows else 0.0
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0

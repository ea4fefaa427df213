"""The command line's files: one guard that every verb uses for what it reads and what it writes.

* :func:`resolve` makes every path absolute with symlinks and ``..`` resolved, so that two names of one file are
  seen as one file;
* :class:`FileGuard` collects a command's inputs (files and folders it reads), its training-data folders (read
  recursively, so anything written inside them would be read back as data) and its outputs, and refuses with a
  :class:`CliError` an output that is an input, lies inside a training-data folder, or is another output of the
  same command, before anything is written;
* :func:`write_bytes`, :func:`write_text` and :func:`write_image` write atomically, and :func:`error_line` and
  :func:`describe_os_error` make the one ``error:`` line of a failure (the path, the cause and what to do): they
  live in :mod:`edgeconnect_lib.fileio` (the library's one home for file writes) and are re-exported here for
  the verbs;
  :func:`in_cli_terms` words the library's advice in the command line's options (the library's messages name
  keyword arguments, ``resume=True``; the command line says ``--resume``);
* :func:`parse_overrides` reads ``--set KEY=VALUE`` options into values of the types of a settings dataclass's
  fields (``train``'s ``TrainConfig``, ``ingan train``'s ``InGANConfig``): a wrong type is one line naming the
  key and the type; the ranges are the dataclass's own checks.

Exit codes (``python -m edgeconnect_lib``): 2 for a usage error (:class:`~edgeconnect_lib.errors.UsageError`, of
which :data:`CliError` is a name, or a missing input), 1 for a failure of the system (disk full, read-only
filesystem, no permission) or a diverged run. Any other exception is a bug and keeps its traceback.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

from .fileio import (  # re-exported: the verbs import them from here
    OS_HINTS,
    FileWriteError,
    check_image_array,
    describe_os_error,
    encode_image,
    error_line,
    write_bytes,
    write_image,
    write_text,
)
from .errors import UsageError

__all__ = [
    "CliError",
    "FileWriteError",
    "FileGuard",
    "resolve",
    "is_within",
    "write_bytes",
    "write_text",
    "write_image",
    "encode_image",
    "check_image_array",
    "describe_os_error",
    "error_line",
    "in_cli_terms",
    "add_speed_arguments",
    "parse_overrides",
]


#: A usage error of the command line: printed as one line, exit status 2. The library's one user-error type
#: (:class:`edgeconnect_lib.errors.UsageError`), under the name the command line's modules know it by.
CliError = UsageError


#: The library's keyword arguments, as its messages name them, and the command line's options for them.
CLI_TERMS: tuple[tuple[str, str], ...] = (
    ("on_error='skip'", "--skip-bad-images"),
    ("resume=PATH", "--resume PATH"),
    ("resume=True", "--resume"),
    ("then resume the run", "then resume the run with --resume"),
    ("pass edge_checkpoint= (a run folder or checkpoint of an 'edge' run)", "give --edge-checkpoint (a run folder "
     "or checkpoint of an 'edge' run)"),
    ("without an image (image=None)", "without --image"),
    ("(out_dir=)", "(--out)"),
)


def in_cli_terms(line: str) -> str:
    """``line`` with the library's keyword arguments replaced by the command line's options (:data:`CLI_TERMS`)."""
    for library, cli in CLI_TERMS:
        line = line.replace(library, cli)
    return line


# --------------------------------------------------------------------------------------------------------
# paths
# --------------------------------------------------------------------------------------------------------
def resolve(path: str | os.PathLike) -> Path:
    """``path`` absolute, ``~`` expanded, symlinks and ``..`` resolved (the path need not exist)."""
    return Path(os.path.expanduser(os.fspath(path))).resolve()


def is_within(path: str | os.PathLike, folder: str | os.PathLike) -> bool:
    """Whether ``path`` is ``folder`` or lies under it (both resolved)."""
    p, f = resolve(path), resolve(folder)
    return p == f or f in p.parents


class FileGuard:
    """The files of one command, checked before anything is written.

    ``add_input(option, path)``: a file or folder the command reads; ``add_data_folder(option, folder)``: a
    folder of training data (read recursively); ``add_output(option, path)``: a file or folder it writes. An
    output equal to an input, inside a data folder, or equal to another output raises :class:`CliError`.
    """

    def __init__(self) -> None:
        self.inputs: dict[Path, str] = {}
        self.data_folders: dict[Path, tuple[str, bool]] = {}
        self.outputs: dict[Path, str] = {}

    def add_input(self, option: str, *paths: str | os.PathLike | None) -> None:
        for path in paths:
            if path is not None:
                self.inputs.setdefault(resolve(path), option)

    def add_inputs(self, option: str, paths: Iterable[str | os.PathLike]) -> None:
        self.add_input(option, *paths)

    def add_data_folder(self, option: str, folder: str | os.PathLike, recursive: bool = True) -> None:
        """A folder of training data: no output may be it, nor (``recursive``: its files are listed with their
        subfolders') lie under it."""
        self.data_folders.setdefault(resolve(folder), (option, recursive))

    def add_output(self, option: str, path: str | os.PathLike) -> Path:
        """Check and record an output file or folder; returns it resolved."""
        p = resolve(path)
        shown = f"{option} {path}"
        if p not in self.inputs and p.is_file():  # a hard link: another name of an input file
            p = next((q for q in self.inputs if q.is_file() and os.path.samefile(p, q)), p)
        if p in self.inputs:
            what = "folder" if p.is_dir() else "file"
            raise CliError(f"{shown} is the input {what} of {self.inputs[p]} ({p}): an output never replaces or "
                           f"mixes with an input; choose another {option}")
        for data, (data_option, recursive) in self.data_folders.items():
            if p == data or (recursive and data in p.parents):
                raise CliError(f"{shown} is inside the training data folder {data} ({data_option}): what is written "
                               "there would be read as training photos next time; choose a folder outside it")
        if p in self.outputs:
            raise CliError(f"{shown} is also the output of {self.outputs[p]}: two outputs of one command cannot "
                           "be one file; give different names")
        self.outputs[p] = option
        return p


# --------------------------------------------------------------------------------------------------------
# --set KEY=VALUE
# --------------------------------------------------------------------------------------------------------
def _json_or_text(text: str) -> Any:
    """A ``--set`` value: JSON when it parses (numbers, true/false, lists), else the text itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _example(default: Any) -> str:
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, tuple):
        return json.dumps(list(default) or [100000, 200000])
    return str(default)


def _typed_value(field: dataclasses.Field, key: str, text: str) -> Any:
    """``text`` as a value of the type of ``field`` (the type of its default); ``CliError`` otherwise."""
    default = field.default
    if default is dataclasses.MISSING and field.default_factory is not dataclasses.MISSING:
        default = field.default_factory()
    value = _json_or_text(text)

    def refuse(expected: str) -> CliError:
        return CliError(f"--set {key}={text}: {key} expects {expected} (e.g. --set {key}={_example(default)})")

    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise refuse("true or false")
    elif isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise refuse("an integer")
    elif isinstance(default, float):
        if isinstance(value, str):  # nan, inf, infinity (any case): numbers, refused below as not finite
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise refuse("a number")
        value = float(value)
        if not math.isfinite(value):
            raise refuse("a finite number")
    elif isinstance(default, str):
        value = value if isinstance(value, str) else text.strip()  # --set device=0 is the text "0"
    elif isinstance(default, tuple):
        of_int = "int" in str(field.type)
        kind = "integers" if of_int else "numbers"
        if not isinstance(value, list) or not all(
                not isinstance(v, bool) and isinstance(v, int if of_int else (int, float))
                and (of_int or math.isfinite(v)) for v in value):
            raise refuse(f"a list of {kind}")
        value = tuple(v if of_int else float(v) for v in value)
    return value


def parse_overrides(config_type: type, items: Iterable[str],
                    given: Mapping[str, tuple[Any, str]] | None = None) -> dict[str, Any]:
    """``--set KEY=VALUE`` options as ``{field: value}`` for the settings dataclass ``config_type``.

    Each value gets the type of the field's default: ``true``/``false``, an integer, a finite number (an
    integer is taken as a float; ``nan`` and ``inf`` are refused), a string as written, a list of integers or
    numbers (as a tuple). ``KEY`` may be written with dashes (``lambda-identity``). A wrong type raises
    :class:`CliError` naming the key, the type and an example; the ranges are the dataclass's own checks
    (its ``__post_init__``). Keys that are not fields are returned as parsed (JSON or text) for the config's
    constructor to refuse with its list of valid keys.

    ``given`` maps settings that other options already set to ``(value, option text)``, e.g. ``{"lr":
    (0.001, "--lr 0.001")}``: a ``--set`` of the same key with another value is refused as a conflict.
    """
    fields = {f.name: f for f in dataclasses.fields(config_type)}
    given = dict(given or {})
    values: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            example = next(iter(fields.values()), None)
            shown = f"{example.name}={_example(example.default)}" if example is not None else "key=value"
            raise CliError(f"--set {item!r}: expected KEY=VALUE, e.g. --set {shown}")
        key, text = item.split("=", 1)
        key = key.strip().replace("-", "_")
        field = fields.get(key)
        if field is None:
            value = _json_or_text(text)
            value = tuple(value) if isinstance(value, list) else value
        else:
            value = _typed_value(field, key, text)
        if key in given and given[key][0] != value:
            raise CliError(f"--set {key}={text} conflicts with {given[key][1]}: give the setting once")
        if key in values and values[key] != value:
            raise CliError(f"--set {key}={text} conflicts with an earlier --set {key}: give the setting once")
        values[key] = value
    return values


def add_speed_arguments(parser: Any) -> Any:
    """The networks' precision and compilation options that ``inpaint`` and ``evaluate`` share (``--amp``,
    ``--no-compile``), added to an ``argparse`` parser; returns it."""
    from .options import AMP_KINDS

    parser.add_argument("--amp", choices=AMP_KINDS, default="auto",
                        help="precision of the networks: auto (bf16 autocast on a CPU with native bf16 and on CUDA, "
                             "faster: see benchmarks/README.md; fp32 elsewhere), off (fp32: the figures of the lessons "
                             "and data/README.md), bf16, fp16 (CUDA)")
    parser.add_argument("--no-compile", action="store_true",
                        help="never torch.compile the generators (default: compiled on CUDA only, where it pays)")
    return parser

"""The library's errors: a user's mistake is one type, a diverged training run another; anything else is a bug.

* :class:`UsageError` - a mistake of whoever called: an option value out of range, an unknown key, a file that is
  missing, unreadable or of the wrong kind. The command line (``python -m edgeconnect_lib``) prints it as one line
  ``error: ...`` and exits with status 2. It subclasses ``ValueError``, so code that caught ``ValueError`` for a bad
  argument keeps working.
* :class:`ConfigError` - a :class:`UsageError` of a settings dataclass (``TrainConfig``, ``InGANConfig``,
  ``LossWeights``); :class:`InputError` - a :class:`UsageError` about an input file or array.
* :class:`TrainingDiverged` - a loss became NaN or infinite (exit status 1: the settings may be valid, the run
  was not). The one divergence type of the trainers.

Any other exception, a plain ``ValueError`` included, is a bug: the command line lets it through with its
traceback instead of dressing it as a user's mistake.

The settings' checks that raise :class:`ConfigError` live in :mod:`edgeconnect_lib.options`.
"""
from __future__ import annotations

import linecache
from pathlib import Path

__all__ = [
    "UsageError", "ConfigError", "InputError", "TrainingDiverged", "is_usage_error", "raised_by_a_check", "PENDING_MODULES",
]


class UsageError(ValueError):
    """A user's mistake (bad option value, unusable input): one line ``error: ...``, exit status 2."""


class ConfigError(UsageError):
    """A settings value out of range, of the wrong type or an unknown key; the message names the field and the fix."""


class InputError(UsageError):
    """An input (file, folder or array) that cannot be used: missing, unreadable, of the wrong shape or kind."""


class TrainingDiverged(FloatingPointError):
    """A loss became NaN or infinite: training stopped (the one divergence type of both trainers).

    ``loss`` names the loss, ``value`` is its value, ``iteration`` where it happened (``None`` when not known) and
    ``last_checkpoint`` the last good checkpoint (``None``: none written yet). A ``FloatingPointError``, as the
    step-level :class:`edgeconnect_lib.models.NonFiniteLossError` the trainers turn into it.
    """

    def __init__(self, loss: str, value: float, iteration: int | None = None,
                 last_checkpoint: Path | None = None) -> None:
        self.loss, self.value, self.iteration, self.last_checkpoint = loss, value, iteration, last_checkpoint
        where = f" at iteration {iteration}" if iteration is not None else ""
        kept = f"the last good checkpoint is {last_checkpoint}" if last_checkpoint else "no checkpoint was written yet"
        super().__init__(f"{loss} became {value}{where}: training diverged; {kept} (try a lower lr, amp='off', or "
                         "resume from that checkpoint with another seed)")

    @property
    def name(self) -> str:
        """The loss that diverged (as ``NonFiniteLossError.name``)."""
        return self.loss


#: Library modules whose own checks still raise a plain ``ValueError`` (the inference pipeline, checkpoint files and
#: image files, under rework in issue 23's other half). Until they raise :class:`UsageError`,
#: :func:`raised_by_a_check` tells their checks from bugs.
PENDING_MODULES: tuple[str, ...] = ("models", "pipeline", "checkpoints", "images", "editor")


def raised_by_a_check(err: BaseException) -> bool:
    """Whether ``err`` is a plain ``ValueError`` raised by a ``raise`` statement of one of :data:`PENDING_MODULES`:
    a deliberate check of the caller's input (a user's mistake), not a failure inside them (``int("x")``, NumPy,
    torch), which is a bug."""
    if not isinstance(err, ValueError) or err.__traceback__ is None:
        return False
    tb = err.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    path = Path(tb.tb_frame.f_code.co_filename)
    if path.parent != Path(__file__).parent or path.stem not in PENDING_MODULES:
        return False
    return linecache.getline(str(path), tb.tb_lineno).strip().startswith("raise ")


def is_usage_error(err: BaseException) -> bool:
    """Whether the command line reports ``err`` as a user's mistake (one line, status 2): a :class:`UsageError`,
    or, until :data:`PENDING_MODULES` raise it, a ``ValueError`` of a type one of them defines
    (``images.ImageReadError``) or raised by one of their checks (:func:`raised_by_a_check`)."""
    if isinstance(err, UsageError):
        return True
    if not isinstance(err, ValueError):
        return False
    if type(err).__module__ in {f"{__package__}.{name}" for name in PENDING_MODULES}:
        return True
    return raised_by_a_check(err)

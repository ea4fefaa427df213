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

from pathlib import Path

__all__ = [
    "UsageError", "ConfigError", "InputError", "TrainingDiverged", "is_usage_error",
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
    step-level alias ``edgeconnect_lib.models.NonFiniteLossError`` (raised without the iteration and checkpoint,
    which the trainers add).
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


def is_usage_error(err: BaseException) -> bool:
    """Whether the command line reports ``err`` as a user's mistake (one line, status 2): a :class:`UsageError`
    (every check of the library raises one). Any other exception, a plain ``ValueError`` included, is a bug and
    keeps its traceback."""
    return isinstance(err, UsageError)

"""One error hierarchy: a user's mistake is a ``UsageError`` (one line, exit status 2), a diverged run a
``TrainingDiverged``; anything else is a bug and keeps its traceback. One place reads the environment
(``settings``), and plain configuration imports no torch, OpenCV or VGG."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import edgeconnect_lib
from edgeconnect_lib import checkpoints, config, errors, evaluation, models, options, settings, train
from edgeconnect_lib.__main__ import main
from edgeconnect_lib.errors import ConfigError, InputError, TrainingDiverged, UsageError, is_usage_error

PACKAGE = Path(edgeconnect_lib.__file__).parent
REPO = PACKAGE.parent


def test_user_errors_are_value_errors_and_one_type():
    assert issubclass(ConfigError, UsageError) and issubclass(InputError, UsageError)
    assert issubclass(UsageError, ValueError)  # library callers that caught ValueError keep working
    from edgeconnect_lib.cli_files import CliError

    assert CliError is UsageError
    with pytest.raises(ConfigError, match="batch_size=0: must be a positive whole number"):
        config.get_config("tiny", batch_size=0)


def test_one_divergence_type():
    assert train.TrainingDiverged is TrainingDiverged
    from edgeconnect_lib.ingan import trainer as ingan_trainer

    assert ingan_trainer.TrainingDiverged is TrainingDiverged
    err = TrainingDiverged("loss_G", float("nan"), 7, Path("run/ckpt_00000006.pt"))
    assert isinstance(err, FloatingPointError) and err.name == "loss_G"
    assert str(err).startswith("loss_G became nan at iteration 7: training diverged; the last good checkpoint is")


@pytest.mark.parametrize("exc", [ValueError("a bug deep inside"), RuntimeError("a bug deep inside")])
def test_a_bug_is_not_reported_as_a_usage_error(monkeypatch, capsys, exc):
    """A plain ValueError / RuntimeError from inside the library is a bug: it keeps its traceback (it propagates
    out of ``main``) instead of being printed as ``error: ...`` with exit status 2."""
    def broken(*args, **kwargs):
        raise exc

    monkeypatch.setattr(config, "preset_table", broken)
    with pytest.raises(type(exc), match="a bug deep inside"):
        main(["presets"])
    assert "error:" not in capsys.readouterr().err


def test_a_bug_in_evaluate_is_not_a_usage_error(monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise ValueError("a bug deep inside")

    monkeypatch.setattr(evaluation, "make_eval_set", broken)
    with pytest.raises(ValueError, match="a bug deep inside"):
        evaluation.main(["--methods", "telea", "--photos", "test", "--size", "32", "--masks-per-bucket", "1"])
    assert "error:" not in capsys.readouterr().err


def test_a_usage_error_is_one_line_and_status_2(monkeypatch, capsys):
    def mistaken(*args, **kwargs):
        raise UsageError("preset='x': choose one of ('paper', 'cpu')\nsecond line")

    monkeypatch.setattr(config, "preset_table", mistaken)
    assert main(["presets"]) == 2
    assert capsys.readouterr().err == "error: preset='x': choose one of ('paper', 'cpu')\n"


def test_every_library_check_raises_a_usage_error_and_a_plain_value_error_is_a_bug(tmp_path):
    """The checks of the checkpoint files, the pipeline and the images raise UsageError (the CLI's one line); a
    ValueError from anywhere else (NumPy, int(), a bug) is not a user's mistake."""
    from edgeconnect_lib import images, pipeline

    with pytest.raises(UsageError):
        checkpoints.paper_network("nonsense")
    with pytest.raises(UsageError):
        pipeline.prepare(np.zeros((8, 8)), np.zeros((8, 8)))
    bad = tmp_path / "x.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(images.ImageReadError) as caught:
        images.load_image(bad)
    assert is_usage_error(caught.value) and isinstance(caught.value, InputError)
    try:
        int("not a number")
    except ValueError as err:
        assert not is_usage_error(err)
    assert is_usage_error(ConfigError("x")) and not is_usage_error(RuntimeError("x"))
    assert models.NonFiniteLossError is TrainingDiverged  # one divergence type


def test_no_library_module_raises_a_plain_value_error():
    """Every deliberate check raises UsageError (or a subclass), so the command line can tell it from a bug."""
    offenders = [p.relative_to(PACKAGE) for p in PACKAGE.rglob("*.py") if "raise ValueError(" in p.read_text()]
    assert not offenders, offenders


def test_configuration_imports_no_torch_opencv_or_vgg():
    code = ("import sys, edgeconnect_lib.config as c; c.get_config('cpu'); c.preset_table(); "
            "print(sorted(m for m in ('torch', 'cv2', 'torchvision', 'edgeconnect_lib.vgg', 'edgeconnect_lib.losses', "
            "'edgeconnect_lib.data') if m in sys.modules))")
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout


def test_every_environment_variable_is_read_in_settings_only():
    """Each ``EDGECONNECT_*`` variable named anywhere in the library is documented in ``settings``, and no other
    module reads ``os.environ`` / ``os.getenv`` for one."""
    named = set()
    readers = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        named |= set(re.findall(r"EDGECONNECT_[A-Z0-9_]+", text))
        if path.name != "settings.py" and re.search(r"(environ|getenv)\W+[^\n]*EDGECONNECT_", text):
            readers.append(path.name)
    assert named <= set(settings.VARIABLES), sorted(named - set(settings.VARIABLES))
    assert not readers, f"read EDGECONNECT_* outside settings.py: {readers}"
    for name in settings.VARIABLES:
        assert f"``{name}``" in settings.__doc__


def test_settings_are_read_when_needed(monkeypatch, tmp_path):
    monkeypatch.setenv(settings.OFFLINE, " Yes ")
    assert settings.offline()
    monkeypatch.setenv(settings.OFFLINE, "0")
    assert not settings.offline()
    monkeypatch.setenv(settings.INCEPTION, str(tmp_path / "i.pt"))
    assert evaluation.inception_path_from_env() == tmp_path / "i.pt"
    monkeypatch.setenv(settings.INCEPTION, "")
    assert evaluation.inception_path_from_env() is None


def test_options_checks_name_the_field():
    with pytest.raises(ConfigError, match=r"gan='x': choose one of \('nsgan', 'lsgan', 'hinge'\)"):
        options.choice("gan", "x", options.GAN_KINDS)
    with pytest.raises(ConfigError, match="must be a whole number >= 0"):
        options.whole_number("n", -1, minimum=0)
    with pytest.raises(ConfigError, match="must be a positive number"):
        options.finite_number("lr", float("nan"), strict=True)
    assert options.whole_number("n", 3) == 3
    with pytest.raises(ConfigError):
        options.whole_number("n", True)  # a bool is not a count


def test_library_messages_name_keywords_and_the_cli_names_its_options():
    """The library's advice names its keyword arguments; the command line rewords it in its own options."""
    from edgeconnect_lib.cli_files import CLI_TERMS, in_cli_terms

    library_text = "".join((PACKAGE / f"{name}.py").read_text() for name in ("data", "runs", "train", "config"))
    library_text += (PACKAGE / "ingan" / "trainer.py").read_text()
    assert "CLI:" not in library_text and "CLI --" not in library_text
    assert in_cli_terms("resume it (resume=True) or resume from a good file with resume=PATH") == \
        "resume it (--resume) or resume from a good file with --resume PATH"
    assert all(library != cli for library, cli in CLI_TERMS)

"""Command line: train a stage, inpaint images, show the presets.

    python -m edgeconnect_lib train --stage edge --preset cpu --data course --out runs/edge
    python -m edgeconnect_lib train --stage edge-inpaint --preset cpu --data course --out runs/ei \\
        --edge-checkpoint runs/edge
    python -m edgeconnect_lib train ... --resume            # continue the run in --out
    torchrun --nproc_per_node 4 -m edgeconnect_lib train --preset paper ...   # several GPUs (DDP)
    python -m edgeconnect_lib inpaint --checkpoint runs/ei --image photo.jpg --mask hole.png --out out.png
    python -m edgeconnect_lib inpaint --checkpoint runs/ei --image photos/ --mask masks/ --out results/
    python -m edgeconnect_lib presets

Usage errors (a missing file, a mask of the wrong size, an unknown option value) print one line starting
with ``error:`` and exit with status 2; a diverged training run exits with status 1.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Sequence

__all__ = ["main", "build_parser"]


class CliError(Exception):
    """A usage error: printed as one line, exit status 2."""


def _value(text: str) -> Any:
    """``--set`` values: JSON when it parses (numbers, true/false, lists), else the string itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def build_parser() -> argparse.ArgumentParser:
    from .config import PRESETS, STAGES

    parser = argparse.ArgumentParser(prog="python -m edgeconnect_lib", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Run 'python -m edgeconnect_lib COMMAND --help' for a command's options.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = sub.add_parser("train", help="train one stage (edge, inpaint, edge-inpaint, joint)",
                       description="Train one EdgeConnect stage. Writes checkpoints/, log.csv, val.csv, samples/ "
                                   "and config.json under --out. Under torchrun it trains with DDP.")
    t.add_argument("--stage", choices=STAGES, required=True, help="which stage to train")
    t.add_argument("--preset", choices=tuple(PRESETS), default="cpu",
                   help="named settings (default: cpu); see 'python -m edgeconnect_lib presets'")
    t.add_argument("--data", required=True,
                   help="training photos: 'course' (the course's train split, validated on its val split), "
                        "a folder, a glob pattern, or a .txt/.flist list of paths")
    t.add_argument("--val-data", default=None, help="validation photos (default: see --data)")
    t.add_argument("--out", required=True, type=Path, help="run folder for checkpoints and logs")
    t.add_argument("--iterations", type=int, default=None, help="total iterations (default: the preset's)")
    t.add_argument("--batch-size", type=int, default=None, help="batch size per process")
    t.add_argument("--image-size", type=int, default=None, help="training crop size in pixels (multiple of 4)")
    t.add_argument("--lr", type=float, default=None, help="generator learning rate")
    t.add_argument("--seed", type=int, default=None)
    t.add_argument("--device", default=None, help="auto | cpu | cuda | cuda:N | mps (default: the preset's, auto)")
    t.add_argument("--amp", choices=("auto", "off", "bf16", "fp16"), default=None, help="mixed precision")
    t.add_argument("--num-workers", type=int, default=None, help="DataLoader worker processes")
    t.add_argument("--save-every", type=int, default=None, help="iterations between checkpoints")
    t.add_argument("--resume", action="store_true",
                   help="continue from the latest checkpoint in --out (starts afresh when there is none)")
    t.add_argument("--edge-checkpoint", default=None,
                   help="trained edge model (run folder or file) for --stage edge-inpaint / joint")
    t.add_argument("--inpaint-checkpoint", default=None,
                   help="trained inpaint model (run folder or file) to start --stage joint from")
    t.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="any other config field, e.g. --set lr_milestones=[100000,200000] --set style=0")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")

    i = sub.add_parser("inpaint", help="fill the holes of images with a trained model",
                       description="Inpaint one image or a folder of images. A mask pixel that is non-zero is a hole. "
                                   "Folders are paired by file name (stem) when every image has a mask of the same "
                                   "name, otherwise by sorted order, as the authors' test script.")
    i.add_argument("--checkpoint", default=None,
                   help="a checkpoint (file or run folder) holding both generators: stage edge-inpaint or joint, "
                        "or a file written by EdgeConnect.save")
    i.add_argument("--edge-checkpoint", default=None, help="with --inpaint-checkpoint, instead of --checkpoint")
    i.add_argument("--inpaint-checkpoint", default=None, help="with --edge-checkpoint, instead of --checkpoint")
    i.add_argument("--image", required=True, help="an image file or a folder of images")
    i.add_argument("--mask", required=True, help="a mask file or a folder of masks (PNG, non-zero = hole)")
    i.add_argument("--edges", default=None,
                   help="edge map(s) to use instead of the edge generator's (file or folder; non-zero = edge)")
    i.add_argument("--out", required=True, type=Path, help="output file (one image) or folder")
    i.add_argument("--pair", choices=("auto", "name", "sorted"), default="auto",
                   help="how folders of images and masks are paired (default: by name when possible)")
    i.add_argument("--save-edges", action="store_true", help="also write NAME_edges.png (the edges used)")
    i.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")

    sub.add_parser("presets", help="print the table of training presets")
    return parser


# --------------------------------------------------------------------------------------------------------
# train
# --------------------------------------------------------------------------------------------------------
def _config_from_args(args: argparse.Namespace):
    from .config import get_config

    overrides: dict[str, Any] = {"stage": args.stage}
    for name in ("iterations", "batch_size", "image_size", "lr", "seed", "device", "amp", "num_workers", "save_every"):
        value = getattr(args, name)
        if value is not None:
            overrides[name] = value
    for item in args.overrides:
        if "=" not in item:
            raise CliError(f"--set {item!r}: expected KEY=VALUE, e.g. --set style=0")
        key, text = item.split("=", 1)
        value = _value(text)
        overrides[key.strip().replace("-", "_")] = tuple(value) if isinstance(value, list) else value
    if args.no_progress:
        overrides["progress"] = False
    return get_config(args.preset, **overrides)


def _check_checkpoint_arg(option: str, value: str | None) -> None:
    if value is None:
        return
    from .checkpoints import latest_checkpoint

    p = Path(value)
    if not p.exists():
        raise CliError(f"{option} {value}: no such file or folder")
    if p.is_dir() and latest_checkpoint(p) is None:
        raise CliError(f"{option} {value}: the folder holds no checkpoint (checkpoints/ckpt_*.pt)")


def _train(args: argparse.Namespace) -> int:
    from .train import Trainer, TrainingDiverged

    import warnings

    # the trainer prints which VGG19 weights the perceptual/style losses use; no second, longer warning
    warnings.filterwarnings("ignore", message="ImageNet VGG19 weights not found")
    cfg = _config_from_args(args)
    if args.data != "course" and not any(c in args.data for c in "*?[") and not Path(args.data).exists():
        raise CliError(f"--data {args.data}: no such folder or file (give a folder of photos, a glob, a list "
                       "file, or 'course')")
    _check_checkpoint_arg("--edge-checkpoint", args.edge_checkpoint)
    _check_checkpoint_arg("--inpaint-checkpoint", args.inpaint_checkpoint)
    trainer = Trainer(cfg, args.data, args.out, val_data=args.val_data, edge_checkpoint=args.edge_checkpoint,
                      inpaint_checkpoint=args.inpaint_checkpoint, resume=args.resume)
    if args.resume and trainer.iteration == 0 and trainer.dist.main:
        print(f"no checkpoint in {args.out}: starting from iteration 0", flush=True)
    try:
        result = trainer.fit()
    except TrainingDiverged as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if trainer.dist.main:
        val = ", ".join(f"{k} {v:.4g}" for k, v in result.val.items())
        print(f"done: {cfg.stage}, iteration {result.iteration}, checkpoint {result.checkpoint}"
              + (f"; validation: {val}" if val else ""), flush=True)
    return 0


# --------------------------------------------------------------------------------------------------------
# inpaint
# --------------------------------------------------------------------------------------------------------
def _files(source: str, what: str) -> list[Path]:
    from .data import list_image_files

    p = Path(source)
    if not p.exists() and not any(c in source for c in "*?["):
        raise CliError(f"--{what} {source}: no such file or folder")
    try:
        return list_image_files(source)
    except (ValueError, FileNotFoundError) as err:
        raise CliError(f"--{what} {source}: {err}") from None


def _pair(images: list[Path], others: list[Path], what: str, mode: str) -> list[Path]:
    """One ``others`` file per image: by stem (``name``) or by sorted order (``sorted``)."""
    if len(others) == 1 and len(images) == 1:
        return others
    by_stem = {p.stem: p for p in others}
    if mode in ("auto", "name") and all(p.stem in by_stem for p in images):
        return [by_stem[p.stem] for p in images]
    if mode == "name":
        missing = [p.name for p in images if p.stem not in by_stem][:3]
        raise CliError(f"--pair name: no {what} named like {missing} (a {what} must have the image's file stem)")
    if len(others) == 1:
        return others * len(images)
    if len(others) != len(images):
        raise CliError(f"{len(images)} images but {len(others)} {what}s: give one {what} per image (paired by "
                       "sorted order), the same file names, or a single file")
    return sorted(others)


def _inpaint(args: argparse.Namespace) -> int:
    import numpy as np
    from PIL import Image

    from .images import load_image
    from .masks import load_mask
    from .models import EdgeConnect
    from .utils import pick_device

    device = pick_device(args.device)
    if args.checkpoint is not None:
        _check_checkpoint_arg("--checkpoint", args.checkpoint)
        pipeline = EdgeConnect.load(args.checkpoint, device=device)
    elif args.edge_checkpoint and args.inpaint_checkpoint:
        _check_checkpoint_arg("--edge-checkpoint", args.edge_checkpoint)
        _check_checkpoint_arg("--inpaint-checkpoint", args.inpaint_checkpoint)
        pipeline = EdgeConnect.from_checkpoints(args.edge_checkpoint, args.inpaint_checkpoint, device=device)
    else:
        raise CliError("give --checkpoint (a stage edge-inpaint / joint run), or both --edge-checkpoint and "
                       "--inpaint-checkpoint")

    images = _files(args.image, "image")
    masks = _pair(images, _files(args.mask, "mask"), "mask", args.pair)
    edges = _pair(images, _files(args.edges, "edges"), "edge map", args.pair) if args.edges else [None] * len(images)
    single = len(images) == 1 and Path(args.image).is_file()
    out_is_file = single and args.out.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
    if not out_is_file:
        args.out.mkdir(parents=True, exist_ok=True)

    def save(arr: np.ndarray, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray((np.clip(arr, 0, 1) * 255 + 0.5).astype(np.uint8)).save(path)

    for img_path, mask_path, edge_path in zip(images, masks, edges):
        image = load_image(img_path)
        mask = load_mask(mask_path)
        if mask.shape != image.shape[:2]:
            raise CliError(f"mask {mask_path} is {mask.shape[1]}x{mask.shape[0]} but image {img_path} is "
                           f"{image.shape[1]}x{image.shape[0]}: masks must have the image's size")
        edge = None
        if edge_path is not None:
            edge = load_image(edge_path).mean(axis=2) > 0.5
            if edge.shape != mask.shape:
                raise CliError(f"edge map {edge_path} is {edge.shape[1]}x{edge.shape[0]} but image {img_path} is "
                               f"{image.shape[1]}x{image.shape[0]}")
        result = pipeline.inpaint(image, mask, edges=edge)
        target = args.out if out_is_file else args.out / f"{img_path.stem}.png"
        save(result.image, target)
        if args.save_edges:
            save(1.0 - result.edges, target.with_name(f"{target.stem}_edges.png"))
        print(f"{img_path} + {mask_path.name} -> {target}", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .images import ImageReadError

    try:
        if args.command == "presets":
            from .config import preset_table

            print(preset_table())
            return 0
        if args.command == "train":
            return _train(args)
        return _inpaint(args)
    except CliError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError, ImageReadError) as err:
        msg = str(err).splitlines()[0] if str(err) else type(err).__name__
        print(f"error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())

"""Command line: train a stage, inpaint images, show the presets.

    python -m edgeconnect_lib train --stage edge --preset cpu --data course --out runs/edge
    python -m edgeconnect_lib train --stage edge-inpaint --preset cpu --data course --out runs/ei \\
        --edge-checkpoint runs/edge
    python -m edgeconnect_lib train ... --resume            # continue the run in --out
    python -m edgeconnect_lib train ... --resume runs/edge/checkpoints/ckpt_00000280.pt   # from that file
    torchrun --nproc_per_node 4 -m edgeconnect_lib train --preset paper ...   # several GPUs (DDP)
    python -m edgeconnect_lib inpaint --checkpoint runs/ei --image photo.jpg --mask hole.png --out out.png
    python -m edgeconnect_lib inpaint --checkpoint runs/ei --image photos/ --mask masks/ --out results/
    python -m edgeconnect_lib presets
    python -m edgeconnect_lib download vgg19|places2|celeba|psv|authors|all [--dest DIR] [--url URL] [--force]
    python -m edgeconnect_lib ingan train --image photo.jpg --out runs/ingan [--iterations N] [--resume]
    python -m edgeconnect_lib ingan retarget --checkpoint runs/ingan --size 64x192 --out wide.png

Usage errors (a missing file, a mask of the wrong size, an unknown option value: an
:class:`~edgeconnect_lib.errors.UsageError`) print one line starting with ``error:`` and exit with status 2; any
other exception is a bug and keeps its traceback; a diverged training run, and a failure of the system (disk full,
read-only filesystem, no permission: the line names the file and the cause) exit with status 1. Nothing
written before is lost: checkpoints and results are written to a temporary file and renamed.
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path
from typing import Any, NamedTuple, Sequence

from .cli_files import (
    CliError,
    FileGuard,
    add_speed_arguments,
    describe_os_error,
    error_line,
    in_cli_terms,
    parse_overrides,
    resolve,
)
from .errors import UsageError, is_usage_error

__all__ = ["main", "build_parser", "describe_os_error", "OUTPUT_EXTENSIONS", "CliError"]

#: File endings an inpainted result can be written as.
OUTPUT_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


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
    t.add_argument("--out", required=True, type=Path,
                   help="run folder for checkpoints and logs (not inside the --data folder: samples written there "
                        "would be read as photos)")
    t.add_argument("--iterations", type=int, default=None, help="total iterations (default: the preset's)")
    t.add_argument("--batch-size", type=int, default=None, help="batch size per process")
    t.add_argument("--image-size", type=int, default=None, help="training crop size in pixels (multiple of 4)")
    t.add_argument("--lr", type=float, default=None, help="generator learning rate")
    t.add_argument("--seed", type=int, default=None)
    t.add_argument("--device", default=None, help="auto | cpu | cuda | cuda:N | mps (default: the preset's, auto)")
    t.add_argument("--amp", choices=("auto", "off", "bf16", "fp16"), default=None, help="mixed precision")
    t.add_argument("--no-compile", action="store_true",
                   help="never torch.compile the networks (default: the preset's compile='auto', i.e. compiled on CUDA "
                        "only; --set compile=on compiles on a CPU too; same as --set compile=off)")
    t.add_argument("--num-workers", type=int, default=None, help="DataLoader worker processes")
    t.add_argument("--save-every", type=int, default=None, help="iterations between checkpoints")
    t.add_argument("--resume", nargs="?", const=True, default=False, metavar="CHECKPOINT",
                   help="continue from the newest readable checkpoint in --out (unreadable newer ones are skipped "
                        "and named; starts afresh when there is none), or from the CHECKPOINT file given")
    t.add_argument("--skip-bad-images", action="store_true",
                   help="skip (and list) photos that cannot be read or are too small, instead of stopping before "
                        "training with the list (same as --set on_error=skip)")
    t.add_argument("--edge-checkpoint", default=None,
                   help="trained edge model (run folder or file) for --stage edge-inpaint / joint")
    t.add_argument("--inpaint-checkpoint", default=None,
                   help="trained inpaint model (run folder or file) to start --stage joint from")
    t.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="any other config field, e.g. --set lr_milestones=[100000,200000] --set style=0; the value "
                        "must have the field's type (true/false, an integer, a number, a list); a key that an option "
                        "above also sets (stage, lr, ...) must agree with it")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")

    i = sub.add_parser("inpaint", help="fill the holes of images with a trained model",
                       description="Inpaint one image or a folder of images. A mask pixel that is non-zero is a hole. "
                                   "Folders are paired by file name (stem) when every image has a mask of the same "
                                   "name, by sorted order (with a note) when no name matches, as the authors' test "
                                   "script; an error lists the images without a mask otherwise. Results are NAME.png "
                                   "in the --out folder; they never replace an input file. Every image, mask and "
                                   "edge map is read and checked before any result is written (--skip-bad: skip "
                                   "and list the bad ones).")
    i.add_argument("--checkpoint", default=None,
                   help="a checkpoint (file or run folder) holding both generators: stage edge-inpaint or joint, "
                        "or a file written by EdgeConnect.save (not together with the next two)")
    i.add_argument("--edge-checkpoint", default=None, help="with --inpaint-checkpoint, instead of --checkpoint")
    i.add_argument("--inpaint-checkpoint", default=None, help="with --edge-checkpoint, instead of --checkpoint")
    i.add_argument("--image", required=True, help="an image file or a folder of images")
    i.add_argument("--mask", required=True, help="a mask file or a folder of masks (PNG, non-zero = hole)")
    i.add_argument("--edges", default=None,
                   help="edge map(s) to use instead of the edge generator's (file or folder): the full map G_inpaint "
                        "reads, read like masks: a single-channel (grey) lossless file whose non-zero pixels are "
                        "the edges (0/255 as --save-edges and the editor write them); a colour image, a photo, a "
                        "wrong size or an unreadable file is refused")
    i.add_argument("--out", required=True, type=Path,
                   help="output file for one image (.png, .jpg, ...), else a folder (created if needed). A grey "
                        "photo gives a grey result; an alpha channel is composited on white and dropped (with a "
                        "note); .jpg/.webp change known pixels (a note says by how much): use .png to keep them")
    i.add_argument("--pair", choices=("auto", "name", "sorted"), default="auto",
                   help="how folders of images and masks are paired (default: by name, by sorted order only when "
                        "no name matches)")
    i.add_argument("--max-side", type=int, default=None, metavar="PX",
                   help="inpaint images whose longer side exceeds PX at that size (the hole is filled from the "
                        "downscaled result; known pixels keep full resolution)")
    i.add_argument("--max-megapixels", type=float, default=None, metavar="MP",
                   help="refuse larger images (after --max-side) instead of running out of memory "
                        "(default 4, EdgeConnect.MAX_PIXELS)")
    i.add_argument("--save-edges", action="store_true",
                   help="also write NAME_edges.png: the edge map G_inpaint got (255 = edge, the format --edges "
                        "reads). G_edge's map is then thresholded at 0.5 before G_inpaint (as the saved file), so "
                        "that --edges NAME_edges.png redoes the result exactly; without --save-edges G_inpaint gets "
                        "G_edge's soft map, as in the paper (a few levels apart)")
    i.add_argument("--skip-bad", action="store_true",
                   help="skip (and list) images whose image, mask or edge map cannot be read or has the wrong size, "
                        "instead of stopping before any result is written with the list of them")
    i.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")
    add_speed_arguments(i)
    i.add_argument("--blend", choices=("none", "poisson"), default="none",
                   help="poisson: Poisson-blend G_inpaint's output into the hole (edgeconnect_lib.blending; a "
                        "post-processing step that is not in EdgeConnect, which softens the seam); default none")

    from .evaluation import add_arguments as add_evaluate_arguments

    add_evaluate_arguments(sub.add_parser(
        "evaluate", help="score our model against Telea, Navier-Stokes and a mean fill, per hole-ratio bucket",
        description="In-hole PSNR, SSIM (hole bounding box) and L1 per hole-ratio bucket (paper Sec. 4.1, Table 1)."))
    from .ingan import add_arguments as add_ingan_arguments

    add_ingan_arguments(sub.add_parser(
        "ingan", help="InGAN (bonus lesson 11): train on one photo, retarget it to any size or homography",
        description="InGAN (Shocher et al., ICCV 2019): 'ingan train' learns one photo, 'ingan retarget' paints it "
                    "at another size (--size HxW) or through a 3x3 homography (--homography, 9 numbers)."))
    from .weights import add_arguments as add_download_arguments

    add_download_arguments(sub.add_parser(
        "download", help="fetch pretrained weights, verified (torchvision's VGG19, the authors' checkpoints)",
        description="Download torchvision's ImageNet VGG19 (to the torch hub cache) or the EdgeConnect authors' "
                    "checkpoints (one zip, unzipped to ~/.cache/edgeconnect/authors/<dataset>/), verify them (hash, or "
                    "loading into the paper's networks) and print where each file went. Verified files already "
                    "present are not downloaded again. A failure prints one 'error:' line and exits with status 1."))
    sub.add_parser("presets", help="print the table of training presets")
    return parser


# --------------------------------------------------------------------------------------------------------
# train
# --------------------------------------------------------------------------------------------------------
def _config_from_args(args: argparse.Namespace):
    from .config import TrainConfig, get_config

    overrides: dict[str, Any] = {"stage": args.stage}
    for name in ("iterations", "batch_size", "image_size", "lr", "seed", "device", "amp", "num_workers", "save_every"):
        value = getattr(args, name)
        if value is not None:
            overrides[name] = value
    if args.no_progress:
        overrides["progress"] = False
    if args.skip_bad_images:
        overrides["on_error"] = "skip"
    if getattr(args, "no_compile", False):
        overrides["compile"] = "off"
    options = {name: f"--{name.replace('_', '-')} {overrides[name]}" for name in overrides}
    options.update(progress="--no-progress", on_error="--skip-bad-images", compile="--no-compile")
    given = {name: (value, options[name]) for name, value in overrides.items()}
    overrides.update(parse_overrides(TrainConfig, args.overrides, given))
    return get_config(args.preset, **overrides)  # its own checks (ranges, unknown keys) raise a ConfigError


def _check_checkpoint_arg(option: str, value: str | None) -> None:
    if value is None:
        return
    from .checkpoints import latest_checkpoint

    p = Path(value)
    if not p.exists():
        raise CliError(f"{option} {value}: no such file or folder")
    if p.is_dir() and latest_checkpoint(p) is None:
        raise CliError(f"{option} {value}: the folder holds no checkpoint (checkpoints/ckpt_*.pt)")


def _data_folders(source: str) -> list[tuple[Path, bool]]:
    """The folders a ``--data`` source reads photos from, and whether their subfolders are read too: a folder
    (recursive), the fixed part of a glob (recursive with ``**`` or a pattern in a folder name), the course's
    ``data/images`` and the folders of a list file's photos (their files only)."""
    if source == "course":
        from .course_data import data_dir

        try:
            return [(data_dir() / "images", False)]
        except FileNotFoundError:
            return []
    path = Path(os.path.expanduser(source))
    if path.is_dir():
        return [(path, True)]
    if any(c in source for c in "*?["):
        parts = path.parts
        fixed = next(i for i, part in enumerate(parts) if any(c in part for c in "*?["))
        return [(Path(*parts[:fixed]) if fixed else Path("."), fixed < len(parts) - 1 or "**" in source)]
    if path.is_file() and path.suffix.lower() in (".txt", ".flist", ".lst"):
        from .data import list_image_files

        try:
            return [(folder, False) for folder in sorted({p.parent for p in list_image_files(path)})]
        except (ValueError, OSError):
            return []
    return []


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
    if args.resume is not True and args.resume is not False:
        _check_checkpoint_arg("--resume", args.resume)
    guard = FileGuard()
    for option, source in (("--data", args.data), ("--val-data", args.val_data)):
        if source is not None:
            for folder, recursive in _data_folders(source):
                guard.add_data_folder(option, folder, recursive)
            if source != "course" and Path(source).is_file():
                guard.add_input(option, source)
    guard.add_input("--edge-checkpoint", args.edge_checkpoint)
    guard.add_input("--inpaint-checkpoint", args.inpaint_checkpoint)
    guard.add_output("--out", args.out)
    trainer = Trainer(cfg, args.data, args.out, val_data=args.val_data, edge_checkpoint=args.edge_checkpoint,
                      inpaint_checkpoint=args.inpaint_checkpoint, resume=args.resume)
    if args.resume is True and trainer.iteration == 0 and trainer.dist.main:
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
    """One ``others`` file per image.

    ``auto``: by file stem when every image has a same-named file; by sorted order (with a note) only when
    *no* name matches; a ``CliError`` listing the unmatched images otherwise (never a silent mix).
    ``name``: by stem only. ``sorted``: by sorted order. A single file serves every image.
    """
    if len(others) == 1 and len(images) == 1:
        return others
    by_stem: dict[str, list[Path]] = {}
    for p in others:
        by_stem.setdefault(p.stem, []).append(p)
    named = [p for p in images if p.stem in by_stem]
    if mode == "sorted" or (mode == "auto" and not named):
        paired = _pair_sorted(images, others, what)
        if mode == "auto" and len(others) > 1:
            print(f"note: no {what} is named like an image, so they are paired by sorted order ({images[0].name} + "
                  f"{paired[0].name}, {images[-1].name} + {paired[-1].name}); name each {what} like its image "
                  "to pair by name", flush=True)
        return paired
    unmatched = [p.name for p in images if p.stem not in by_stem]
    if unmatched:
        stems = {p.stem for p in images}
        unused = sorted(p.name for p in others if p.stem not in stems)
        raise CliError(f"{len(unmatched)} of {len(images)} images have no {what} of the same name: "
                       f"{', '.join(unmatched)}" + (f" (unused {what}s: {', '.join(unused)})" if unused else "")
                       + f"; name each {what} like its image (cat.jpg -> cat.png), or give --pair sorted to pair "
                       "every file by sorted order (--pair name: by name only)")
    shared = sorted({s for s in (p.stem for p in images) if len(by_stem[s]) > 1})
    if shared:
        raise CliError(f"several {what}s have the same name: "
                       + "; ".join(", ".join(str(p) for p in by_stem[s]) for s in shared)
                       + f": keep one {what} per image name")
    return [by_stem[p.stem][0] for p in images]


def _pair_sorted(images: list[Path], others: list[Path], what: str) -> list[Path]:
    if len(others) == 1:
        return others * len(images)
    if len(others) != len(images):
        raise CliError(f"{len(images)} images but {len(others)} {what}s: give one {what} per image (paired by "
                       "sorted order), the same file names, or a single file")
    return sorted(others)


def _targets(images: list[Path], image_arg: str, out: Path) -> list[Path]:
    """The result file of each image: ``--out`` itself for one image file and an image file name, else
    ``--out/STEM.png``. A ``CliError`` for an output path that cannot be what is asked."""
    single = len(images) == 1 and Path(image_arg).is_file()
    suffix = out.suffix.lower()
    if single and suffix in OUTPUT_EXTENSIONS:
        if out.is_dir():
            raise CliError(f"--out {out} is an existing folder, not a file: give a new file name (e.g. "
                           f"{out / (images[0].stem + '.png')}), or a folder name without an image extension")
        return [out]
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {out} is an existing file, but a folder is needed for "
                       f"{'a folder of images' if not single else 'this name'}: give a folder")
    if suffix and not out.is_dir():
        if single:
            raise CliError(f"--out {out}: {suffix!r} is not an image extension ({', '.join(OUTPUT_EXTENSIONS)}): "
                           "give an image file name (result.png), or a folder name without an extension")
        raise CliError(f"--out {out}: --image is a folder of {len(images)} images, so --out must be a folder "
                       "(a name without an extension, or an existing folder)")
    return [out / f"{p.stem}.png" for p in images]


def _edges_target(target: Path) -> Path:
    return target.with_name(f"{target.stem}_edges.png")


def _check_outputs(args: argparse.Namespace, images: list[Path], targets: list[Path], inputs: list[Path]) -> None:
    """Refuse two results for one file, a result that would replace an input, and --out = an input folder."""
    writes: dict[Path, list[Path]] = {}
    for img, target in zip(images, targets):
        writes.setdefault(resolve(target), []).append(img)
        if args.save_edges:
            writes.setdefault(resolve(_edges_target(target)), []).append(img)
    clashes = [f"{', '.join(p.name for p in srcs)} -> {dst}" for dst, srcs in writes.items() if len(srcs) > 1]
    if clashes:
        raise CliError("these images would write the same result file: " + "; ".join(clashes)
                       + " (results are named STEM.png): rename them or inpaint them in separate runs")
    sources = {resolve(p) for p in inputs}
    for dst in writes:
        if dst in sources:
            raise CliError(f"--out {args.out} would overwrite the input file {dst}: choose another --out "
                           "(results never replace inputs)")
    out = resolve(args.out)
    for option, value in (("--image", args.image), ("--mask", args.mask), ("--edges", args.edges)):
        if value is not None and Path(value).is_dir() and resolve(value) == out:
            raise CliError(f"--out {args.out} is the {option} folder: results would be mixed with the inputs (and "
                           "read as inputs next time): choose another folder")


def _check_sizes(images: list[Path], max_side: int | None, max_pixels: int | None) -> None:
    """Refuse, before any work, images too large to inpaint here (size from the file header)."""
    from PIL import Image

    if max_pixels is None:
        return
    big = []
    for path in images:
        try:
            with Image.open(path) as im:
                w, h = im.size
        except Exception:  # unreadable: reported with its name when it is loaded
            continue
        if max_side is not None and max(w, h) > max_side:
            scale = max_side / max(w, h)
            w, h = max(1, round(w * scale)), max(1, round(h * scale))
        if w * h > max_pixels:
            big.append(f"{path.name} ({w}x{h})")
    if big:
        raise CliError(f"{len(big)} image(s) above the limit of {max_pixels / 1e6:.3g} megapixels: {', '.join(big)}; "
                       "give --max-side 2048 (inpaint a downscaled copy; known pixels keep full resolution), "
                       "resize them, or raise --max-megapixels if you have the memory")


def _load_pipeline(args: argparse.Namespace, device):
    from .models import EdgeConnect

    if args.checkpoint is not None:
        _check_checkpoint_arg("--checkpoint", args.checkpoint)
        pipeline = EdgeConnect.load(args.checkpoint, device=device, amp=args.amp)
    else:
        _check_checkpoint_arg("--edge-checkpoint", args.edge_checkpoint)
        _check_checkpoint_arg("--inpaint-checkpoint", args.inpaint_checkpoint)
        pipeline = EdgeConnect.from_checkpoints(args.edge_checkpoint, args.inpaint_checkpoint, device=device,
                                                amp=args.amp)
    return pipeline.set_compile("off" if getattr(args, "no_compile", False) else "auto")


def _check_checkpoint_options(args: argparse.Namespace) -> None:
    """Exactly one way to name the model: ``--checkpoint``, or ``--edge-checkpoint`` with ``--inpaint-checkpoint``."""
    split = [o for o, v in (("--edge-checkpoint", args.edge_checkpoint), ("--inpaint-checkpoint",
                                                                        args.inpaint_checkpoint)) if v is not None]
    if args.checkpoint is not None and split:
        raise CliError(f"--checkpoint and {' and '.join(split)} both name the model: --checkpoint holds both "
                       "generators; give it alone, or --edge-checkpoint with --inpaint-checkpoint")
    if args.checkpoint is None and len(split) != 2:
        raise CliError("give --checkpoint (a stage edge-inpaint / joint run), or both --edge-checkpoint and "
                       "--inpaint-checkpoint")


class _Job(NamedTuple):
    image: Path
    mask: Path
    edges: Path | None
    target: Path


def _check_inputs(jobs: list[_Job]) -> tuple[list[tuple[_Job, Any]], list[tuple[_Job, str]]]:
    """Read every image, mask and edge map of the run once (decoded in full) and compare their sizes, before any
    result is written. Returns ``(good, bad)``: ``(job, ImageInfo)`` pairs, and ``(job, reason)`` pairs."""
    from .images import ImageReadError, load_image, read_image_info
    from .masks import load_edge_map, load_mask

    maps: dict[tuple[str, Path], tuple[int, int] | str] = {}

    def map_shape(kind: str, path: Path) -> tuple[int, int] | str:
        if (kind, path) not in maps:
            try:
                maps[kind, path] = (load_mask(path) if kind == "mask" else load_edge_map(path)).shape
            except (ValueError, OSError) as err:
                maps[kind, path] = error_line(err)
        return maps[kind, path]

    good, bad = [], []
    for job in jobs:
        try:
            info = read_image_info(job.image)
            shape = load_image(job.image).shape[:2]
        except ImageReadError as err:
            bad.append((job, error_line(err)))
            continue
        reasons = []
        for kind, path in (("mask", job.mask), ("edge map", job.edges)):
            if path is None:
                continue
            got = map_shape(kind, path)
            if isinstance(got, str):
                reasons.append(got)
            elif got != shape:
                reasons.append(f"{kind} {path} is {got[1]}x{got[0]} but image {job.image} is {shape[1]}x{shape[0]}: "
                               f"{kind}s must have the image's size")
        if reasons:
            bad.append((job, "; ".join(reasons)))
        else:
            good.append((job, info))
    return good, bad


def _inpaint(args: argparse.Namespace) -> int:
    import math

    from .fileio import write_image
    from .images import load_image
    from .masks import load_edge_map, load_mask
    from .models import EdgeConnect
    from .utils import pick_device

    if args.max_side is not None and args.max_side < 16:
        raise CliError(f"--max-side {args.max_side}: must be at least 16 (pixels of the longer side)")
    if args.max_megapixels is not None and not (math.isfinite(args.max_megapixels) and args.max_megapixels > 0):
        raise CliError(f"--max-megapixels {args.max_megapixels}: must be a positive, finite number of megapixels "
                       "(e.g. 16)")
    max_pixels = EdgeConnect.MAX_PIXELS if args.max_megapixels is None else int(args.max_megapixels * 1e6)
    if max_pixels <= 0:
        raise CliError(f"--max-megapixels {args.max_megapixels}: must be at least 0.000001 (one pixel)")
    _check_checkpoint_options(args)
    images = _files(args.image, "image")
    mask_files = _files(args.mask, "mask")
    masks = _pair(images, mask_files, "mask", args.pair)
    edge_files = _files(args.edges, "edges") if args.edges else []
    edges = _pair(images, edge_files, "edge map", args.pair) if args.edges else [None] * len(images)
    targets = _targets(images, args.image, args.out)
    checkpoints = [Path(c) for c in (args.checkpoint, args.edge_checkpoint, args.inpaint_checkpoint)
                   if c is not None and Path(c).is_file()]
    _check_outputs(args, images, targets, images + mask_files + edge_files + checkpoints)
    _check_sizes(images, args.max_side, max_pixels)
    jobs = [_Job(*j) for j in zip(images, masks, edges, targets)]
    good, bad = _check_inputs(jobs)
    if bad:
        listed = "; ".join(reason if job.image.name in reason else f"{job.image}: {reason}" for job, reason in bad)
        if len(jobs) == 1:
            raise CliError(listed)
        if not args.skip_bad or not good:
            raise CliError(f"{len(bad)} of {len(jobs)} images cannot be inpainted (nothing was written): {listed}"
                           + ("; fix or remove them" if args.skip_bad else
                              "; fix or remove them, or give --skip-bad to inpaint the others"))
        print(f"note: skipped {len(bad)} of {len(jobs)} images (--skip-bad): {listed}", flush=True)
    pipeline = _load_pipeline(args, pick_device(args.device))

    for job, info in good:
        image = load_image(job.image)
        mask = load_mask(job.mask)
        edge = load_edge_map(job.edges) if job.edges is not None else None
        if info.alpha:
            print(f"note: {job.image.name} has an alpha channel: it is composited on white (the networks read "
                  "RGB), and the result has no alpha", flush=True)
        limits = dict(max_side=args.max_side, max_pixels=max_pixels)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if args.save_edges and edge is None:
                # the edges G_inpaint gets are the binary map that is saved, so --edges FILE redoes this exactly
                edge = pipeline.inpaint(image, mask, **limits).edges > 0.5
            result = pipeline.inpaint(image, mask, edges=edge, **limits)
        for message in dict.fromkeys(str(w.message) for w in caught):
            print(f"warning: {job.image.name}: {message}", file=sys.stderr, flush=True)
        filled = result.image
        if args.blend == "poisson":
            from .blending import poisson_blend

            filled = poisson_blend(result.output, image, result.mask)
        if info.grey:  # a grey photo: a grey result (the networks work in RGB; their mean is written)
            filled = filled.mean(axis=2)
        change = write_image(filled, job.target, known=~result.mask)
        if args.save_edges:
            write_image(edge, _edges_target(job.target))  # 0 / 255: the map G_inpaint got, as --edges reads it
        print(f"{job.image} + {job.mask.name} -> {job.target}", flush=True)
        if change is not None:
            print(f"note: {job.target.name}: {job.target.suffix} is a lossy format: known pixels differ from the "
                  f"input by up to {change} levels (of 255); write .png to keep them exact", flush=True)
    return 0


_first_line = error_line


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "presets":
            from .config import preset_table

            print(preset_table())
            return 0
        if args.command == "train":
            return _train(args)
        if args.command == "ingan":
            from .ingan import run as run_ingan

            return run_ingan(args)
        if args.command == "evaluate":
            from .evaluation import run as run_evaluate

            return run_evaluate(args)
        if args.command == "download":
            from .weights import run as run_download

            return run_download(args)
        return _inpaint(args)
    except UsageError as err:  # a user's mistake (CliError is one): one line, status 2
        print(f"error: {in_cli_terms(_first_line(err))}", file=sys.stderr)
        return 2
    except OSError as err:
        if isinstance(err, FileNotFoundError) and err.errno is None:  # ours: a message naming the file and the fix
            print(f"error: {in_cli_terms(_first_line(err))}", file=sys.stderr)
            return 2
        print(f"error: {in_cli_terms(describe_os_error(err))}", file=sys.stderr)
        return 2 if isinstance(err, FileNotFoundError) else 1
    except ValueError as err:
        if not is_usage_error(err):
            raise  # a bug, not a user's mistake: keep the traceback
        print(f"error: {in_cli_terms(_first_line(err))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())  # progress lines are printed with flush=True: no PYTHONUNBUFFERED needed

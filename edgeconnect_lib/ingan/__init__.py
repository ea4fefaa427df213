"""InGAN (bonus chapter): one GAN per image that retargets it to any size or shape (lesson 11).

Shocher, Bagon, Isola and Irani, *InGAN: Capturing and Retargeting the "DNA" of a Natural Image*, ICCV 2019.
A generator ``G(x; T)`` takes the image ``x`` and a geometric transform ``T`` (an output size, or a 3x3
homography) and paints an image of that geometry whose patches, at every scale, look like the patches of
``x``; a multi-scale patch discriminator ``D`` judges that. Nothing but the one photo is needed to train.

The objective (paper Sec. 3, Eq. 1-3; the official code's weights):

    L_InGAN = L_GAN(G, D) + lambda_cyc * L_reconst                                  (Eq. 1)
    L_GAN   = E_y[(D(y) - 1)^2] + E_x[D(G(x; T))^2]    (least squares, per D scale)   (Eq. 2)
    L_reconst = || G(G(x; T); T^-1) - x ||_1           (the cycle back to the input)   (Eq. 3)

with ``lambda_cyc = 0.1``. We add the cycle's simplest case as a term of its own, the reconstruction
through the identity transform ``L_id = || G(x; I) - x ||_1`` (weight ``lambda_identity``; 0 in the
``paper`` preset): a generator that keeps the input's geometry must give the input back, which teaches
a small CPU model the photo's appearance far sooner than the cycle alone.

Modules (each holds what it is named for; this package re-exports their public names, so
``from edgeconnect_lib.ingan import X`` works for every ``X`` below):

- :mod:`~edgeconnect_lib.ingan.config`: :class:`InGANConfig`, the presets, output-size rules and parsing;
- :mod:`~edgeconnect_lib.ingan.geometry`: homographies and :class:`GeometricTransform`;
- :mod:`~edgeconnect_lib.ingan.networks`: :class:`InGANGenerator`, :class:`MultiScaleDiscriminator`;
- :mod:`~edgeconnect_lib.ingan.losses`: :func:`ingan_losses` (Eq. 1-3);
- :mod:`~edgeconnect_lib.ingan.photo`: the training photo and its tensor form;
- :mod:`~edgeconnect_lib.ingan.inference`: :class:`InGAN` and the bicubic baselines;
- :mod:`~edgeconnect_lib.ingan.trainer`: :class:`InGANTrainer`, checkpoints, :func:`export_ingan`;
- :mod:`~edgeconnect_lib.ingan.metrics`: :func:`patch_distance` (SWD), :func:`coherence` and
  :func:`completeness` (bidirectional similarity, Simakov et al. 2008);
- :mod:`~edgeconnect_lib.ingan.gpnn`: :func:`gpnn_retarget`, GPNN (Granot et al., CVPR 2022), the
  classical anchor: patch nearest neighbours, coarse to fine, no training;
- :mod:`~edgeconnect_lib.ingan.cli`: ``add_arguments`` and ``run``, the ``ingan`` command group.

Pieces (each class cites what it follows):

- :class:`GeometricTransform`, the layer that resizes or warps a feature map (``grid_sample`` of
  ``H^-1 q`` for every output position ``q``, in normalised coordinates, so a resize is the identity
  homography at another output size);
- :class:`InGANGenerator`: 7x7 entry conv -> the transform -> strided down convs -> residual blocks ->
  up convs with skips to exactly the requested size -> tanh (official code: 3 downs, 6 blocks; the
  ``cpu`` preset drops the skip additions, ``skips=False``, issue 19's measurement);
- :class:`MultiScaleDiscriminator`: one small fully convolutional patch discriminator per level of a
  pyramid with factor 1.4 (down to 13 px), coarse scales weighted more early in training;
- :func:`ingan_losses`: Eq. 1-3 plus ``L_id``, adversarial terms from :mod:`edgeconnect_lib.losses`
  (``lsgan``);
- :class:`InGANTrainer`: Adam (beta1 0.5), curriculum on the output scales, linear lr decay, checkpoints
  written with :func:`~edgeconnect_lib.fileio.atomic_save`, ``resume`` from
  :func:`~edgeconnect_lib.checkpoints.readable_checkpoint`, seeded and deterministic on the CPU;
- :class:`InGAN`: a trained generator and its photo: ``retarget(size)`` / ``retarget(homography=...)``;
- :func:`patch_distance`: the "same DNA" check, a sliced Wasserstein distance between the 7x7 patches of
  two images at 3 pyramid levels, and :func:`bicubic_retarget`, the baseline it is compared with.

Command line: ``python -m edgeconnect_lib ingan train --image X --out RUN`` and
``python -m edgeconnect_lib ingan retarget --checkpoint RUN --size 96x192 --out out.png``; without training,
``python -m edgeconnect_lib ingan retarget --method gpnn --image PHOTO --size 96x192 --out out.png``.
"""
from __future__ import annotations

from .cli import add_arguments, run
from .config import (
    INGAN_FORMAT,
    INGAN_PRESETS,
    MAX_OUTPUT_FACTOR,
    MAX_OUTPUT_SIDE,
    MIN_OUTPUT_SIDE,
    InGANConfig,
    check_output_size,
    get_ingan_config,
    parse_size,
)
from .geometry import (
    GeometricTransform,
    as_homography,
    homography_from_corners,
    identity_homography,
    scale_homography,
    valid_region,
)
from .gpnn import gpnn_retarget
from .inference import InGAN, bicubic_retarget, bicubic_warp
from .losses import ingan_losses, weighted_levels
from .metrics import (
    BidirectionalSimilarity,
    PatchDistance,
    bidirectional_similarity,
    coherence,
    completeness,
    image_patches,
    nearest_distances,
    nearest_patches,
    patch_distance,
    squared_distances,
)
from .networks import InGANGenerator, MultiScaleDiscriminator, scale_weights
from .photo import image_to_tensor, prepare_image, tensor_to_image
from .trainer import InGANResult, InGANTrainer, export_ingan

__all__ = [
    "InGANConfig",
    "INGAN_PRESETS",
    "get_ingan_config",
    "INGAN_FORMAT",
    "MIN_OUTPUT_SIDE",
    "MAX_OUTPUT_SIDE",
    "MAX_OUTPUT_FACTOR",
    "check_output_size",
    "parse_size",
    "identity_homography",
    "scale_homography",
    "homography_from_corners",
    "as_homography",
    "GeometricTransform",
    "InGANGenerator",
    "MultiScaleDiscriminator",
    "scale_weights",
    "ingan_losses",
    "InGANTrainer",
    "InGANResult",
    "InGAN",
    "prepare_image",
    "bicubic_retarget",
    "bicubic_warp",
    "patch_distance",
    "PatchDistance",
    "export_ingan",
    "valid_region",
    "weighted_levels",
    "image_to_tensor",
    "tensor_to_image",
    "coherence",
    "completeness",
    "bidirectional_similarity",
    "BidirectionalSimilarity",
    "image_patches",
    "nearest_distances",
    "nearest_patches",
    "squared_distances",
    "gpnn_retarget",
    "add_arguments",
    "run",
]

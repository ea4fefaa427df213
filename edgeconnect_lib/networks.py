"""EdgeConnect's networks: the edge generator G1, the inpainting generator G2 and the PatchGAN discriminator.

Nazeri et al., *EdgeConnect: Generative Image Inpainting with Adversarial Edge Learning* (2019), Sec. 3.1-3.2
and the paper's description of the network architecture (the authors' public code gives the layer order):

* **G1** (:class:`EdgeGenerator`) predicts an edge map inside the hole from the grayscale image, the masked
  Canny edges and the mask: ``C_pred = G1(I_gray_masked, C_gt_masked, M)`` (Sec. 3.1).
* **G2** (:class:`InpaintGenerator`) paints the hole from the masked RGB image and the composite edge map:
  ``I_pred = G2(I_gt_masked, C_comp)`` (Sec. 3.2).
* **D1 / D2** (:class:`PatchDiscriminator`) are 70x70 PatchGANs (Isola et al. 2017) that return logits per
  patch and their five feature maps (used by the feature-matching loss L_FM, Sec. 3.1).

Both generators share one shape: an encoder that downsamples twice, eight residual blocks with dilated
convolutions (dilation 2), and a decoder that upsamples twice. Widths and the number of residual blocks are
arguments, so the CPU preset of the course and the paper's size come from the same code. At the paper's size
(``base_channels=64``, ``residual_blocks=8``) the parameter counts equal the authors':
G1 10,761,089; G2 10,774,595; D1 2,762,752 (2 input channels); D2 2,763,776 (3 input channels).

Spectral normalisation (Miyato et al. 2018) uses PyTorch's *legacy* hook
:func:`torch.nn.utils.spectral_norm`, not the newer ``torch.nn.utils.parametrizations.spectral_norm``. Reason:
its state-dict keys (``NAME.weight_orig``, ``NAME.weight_u``, ``NAME.weight_v``) are exactly those of the
authors' released checkpoints, and its load hook also converts files from older PyTorch versions, so their
files load without any key renaming. (``weight_u`` and ``weight_v`` are buffers, so they are not counted as
parameters, as in the authors' count.) Lesson 03 (``notebooks/03_networks_and_spectral_norm.ipynb``) rebuilds
spectral normalisation from scratch and checks it against this hook.

All ``nn.Sequential`` positions follow the authors' layer order, so their keys map one to one:
``encoder.1/.4/.7`` (the three encoder convolutions), ``middle.K.conv_block.1/.5`` (the two 3x3 convolutions
of residual block K), ``decoder.0/.3`` (the transposed convolutions), ``decoder.7`` (the output convolution),
``conv1.0`` ... ``conv5.0`` (discriminator). The authors' discriminator also exposes ``conv1`` under a second
name, ``features``, so their files hold each ``conv1.0.*`` tensor twice, as ``features.0.*`` too;
:mod:`edgeconnect_lib.checkpoints` drops (and, when writing, restores) those duplicates.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .errors import UsageError
from .options import UPSAMPLE_KINDS

__all__ = [
    "ResidualBlock",
    "EdgeGenerator",
    "InpaintGenerator",
    "PatchDiscriminator",
    "init_weights",
    "count_parameters",
    "receptive_field",
    "network_config",
    "build_network",
    "refresh_spectral_norm",
    "SingleOutputConv2d",
    "with_prefill",
    "UPSAMPLE_KINDS",
    "use_single_output_conv",
    "resize_kernel_from_transpose",
    "to_resize_upsampling",
    "PAPER_PARAMETER_COUNTS",
]

#: Parameter counts of the authors' networks at the paper's size (from their released checkpoints' layout).
PAPER_PARAMETER_COUNTS: dict[str, int] = {
    "EdgeGenerator": 10_761_089,
    "InpaintGenerator": 10_774_595,
    "PatchDiscriminator_edge": 2_762_752,  # in_channels = 2 (gray, edges)
    "PatchDiscriminator_inpaint": 2_763_776,  # in_channels = 3 (RGB)
}


def _maybe_spectral_norm(layer: nn.Module, use_spectral_norm: bool) -> nn.Module:
    """Wrap ``layer`` with the legacy spectral-norm hook (keys ``weight_orig/_u/_v``) when asked.

    ``W_SN = W / sigma(W)`` where ``sigma(W)`` is the largest singular value of ``W`` reshaped to
    ``(out, in*kh*kw)``, estimated by one power-iteration step per training forward pass (Miyato et al. 2018).
    """
    return nn.utils.spectral_norm(layer) if use_spectral_norm else layer


def _check_positive_int(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise UsageError(f"{name}={value!r}: expected a positive integer")


class ResidualBlock(nn.Module):
    """Residual block of EdgeConnect's generators (after Johnson et al. 2016).

    ``out = x + F(x)`` with ``F`` = reflection pad(d) -> 3x3 conv, dilation d -> InstanceNorm -> ReLU ->
    reflection pad(1) -> 3x3 conv -> InstanceNorm. No ReLU after the sum. Instance norm keeps no running
    statistics (``track_running_stats=False``) and has no affine parameters, as in the authors' code.
    With spectral norm the convolutions have no bias (the instance norm that follows removes it anyway).
    """

    def __init__(self, channels: int, dilation: int = 2, use_spectral_norm: bool = False) -> None:
        super().__init__()
        _check_positive_int("channels", channels)
        _check_positive_int("dilation", dilation)
        bias = not use_spectral_norm
        # Positions 0..6; the authors' keys are conv_block.1 and conv_block.5.
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(dilation),  # 0
            _maybe_spectral_norm(  # 1
                nn.Conv2d(channels, channels, kernel_size=3, dilation=dilation, bias=bias), use_spectral_norm
            ),
            nn.InstanceNorm2d(channels, track_running_stats=False),  # 2
            nn.ReLU(inplace=True),  # 3
            nn.ReflectionPad2d(1),  # 4
            _maybe_spectral_norm(  # 5
                nn.Conv2d(channels, channels, kernel_size=3, dilation=1, bias=bias), use_spectral_norm
            ),
            nn.InstanceNorm2d(channels, track_running_stats=False),  # 6
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # out = x + F(x), no activation after the sum
        return x + self.conv_block(x)


# UPSAMPLE_KINDS (imported from options, re-exported): how the generators' decoder doubles the resolution, the
# paper's 4x4 transposed convolutions, or nearest-neighbour resizing followed by a 3x3 convolution (Odena, Dumoulin
# & Olah 2016, "Deconvolution and Checkerboard Artifacts").


class SingleOutputConv2d(nn.Conv2d):
    """A convolution to one output channel, computed as a depthwise convolution and a sum over channels.

    ``y = b + sum_c (x_c * w_c)``: the same sum as ``nn.Conv2d`` in another order. oneDNN vectorises a direct
    convolution over output channels, so with one output channel most of each vector is wasted; G1's 7x7 output
    convolution (24 -> 1 channels at full resolution) runs several times faster as depthwise + sum (measured in
    ``benchmarks/README.md``). Same parameters and state-dict keys as the
    ``nn.Conv2d`` it is made from (:meth:`from_conv`, which shares them); it runs in fp32 under bf16 autocast. Used
    by the optimised paths: inference (``pipeline.EdgeConnect.set_precision``) and training with mixed precision
    (``models._TrainableModel.setup``).
    """

    @classmethod
    def from_conv(cls, conv: nn.Conv2d) -> "SingleOutputConv2d":
        if conv.out_channels != 1 or conv.groups != 1 or conv.padding_mode != "zeros":
            raise UsageError(f"SingleOutputConv2d: needs a 1-output, ungrouped, zero-padded convolution, got {conv}")
        new = cls.__new__(cls)
        new.__dict__.update(conv.__dict__)  # the same Parameters, hooks and settings, shared
        new._parameters = conv._parameters
        return new

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.in_channels
        # in fp32 even under bf16 autocast: as fast here (a depthwise convolution is memory-bound) and one rounding
        # fewer than the direct bf16 convolution
        with torch.autocast(x.device.type, enabled=False):
            # (1, C, k, k) -> (C, 1, k, k): one k x k filter per input channel
            per_channel = F.conv2d(x.float(), self.weight.float().transpose(0, 1), None, self.stride, self.padding,
                                   self.dilation, groups=c)  # (B, C, H', W')
            out = per_channel.sum(1, keepdim=True)  # (B, 1, H', W')
            if self.bias is not None:
                out = out + self.bias.float().view(1, 1, 1, 1)
        return out


def use_single_output_conv(generator: nn.Module, on: bool = True) -> nn.Module:
    """Swap a generator's 1-channel output convolution (``decoder.7`` of G1) to :class:`SingleOutputConv2d`
    (``on``) or back to ``nn.Conv2d``, sharing its parameters; a generator with more output channels is left as it
    is. Returns ``generator``."""
    decoder = getattr(generator, "decoder", None)
    if not isinstance(decoder, nn.Sequential) or not isinstance(decoder[-1], nn.Conv2d):
        return generator
    last = decoder[-1]
    if on and type(last) is nn.Conv2d and last.out_channels == 1 and last.groups == 1 and last.padding_mode == "zeros":
        decoder[-1] = SingleOutputConv2d.from_conv(last)
    elif not on and isinstance(last, SingleOutputConv2d):
        plain = nn.Conv2d.__new__(nn.Conv2d)
        plain.__dict__.update(last.__dict__)
        decoder[-1] = plain
    return generator


class _Generator(nn.Module):
    """Encoder (x1/4) -> residual blocks -> decoder (x4), shared by G1 and G2."""

    out_channels: int = 1
    in_channels: int = 3

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        base_channels: int = 64,
        residual_blocks: int = 8,
        use_spectral_norm: bool = False,
        init: bool = True,
        upsample: str = "transpose",
    ) -> None:
        super().__init__()
        _check_positive_int("in_channels", in_channels)
        if upsample not in UPSAMPLE_KINDS:
            raise UsageError(f"upsample={upsample!r}: choose one of {UPSAMPLE_KINDS}")
        _check_positive_int("out_channels", out_channels)
        _check_positive_int("base_channels", base_channels)
        if not isinstance(residual_blocks, int) or residual_blocks < 0:
            raise UsageError(f"residual_blocks={residual_blocks!r}: expected an integer >= 0")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.base_channels = base_channels
        self.residual_blocks = residual_blocks
        self.use_spectral_norm = use_spectral_norm
        self.upsample = upsample
        c = base_channels
        sn = use_spectral_norm

        def norm(ch: int) -> nn.Module:
            return nn.InstanceNorm2d(ch, track_running_stats=False)

        # (B, in, H, W) -> (B, 4c, H/4, W/4); keys encoder.1, encoder.4, encoder.7
        self.encoder = nn.Sequential(
            nn.ReflectionPad2d(3),  # 0
            _maybe_spectral_norm(nn.Conv2d(in_channels, c, kernel_size=7, padding=0), sn),  # 1: (B, c, H, W)
            norm(c),  # 2
            nn.ReLU(inplace=True),  # 3
            _maybe_spectral_norm(nn.Conv2d(c, 2 * c, kernel_size=4, stride=2, padding=1), sn),  # 4: H/2
            norm(2 * c),  # 5
            nn.ReLU(inplace=True),  # 6
            _maybe_spectral_norm(nn.Conv2d(2 * c, 4 * c, kernel_size=4, stride=2, padding=1), sn),  # 7: H/4
            norm(4 * c),  # 8
            nn.ReLU(inplace=True),  # 9
        )
        # (B, 4c, H/4, W/4), same shape; keys middle.K.conv_block.1/.5
        self.middle = nn.Sequential(
            *[ResidualBlock(4 * c, dilation=2, use_spectral_norm=sn) for _ in range(residual_blocks)]
        )
        # (B, 4c, H/4, W/4) -> (B, out, H, W); keys decoder.0, decoder.3, decoder.7 (the paper's transposed
        # convolutions), or decoder.1, decoder.5, decoder.9 with upsample="resize"
        def up(cin: int, cout: int) -> list[nn.Module]:
            if upsample == "transpose":
                return [_maybe_spectral_norm(nn.ConvTranspose2d(cin, cout, kernel_size=4, stride=2, padding=1), sn)]
            # resize, then convolve (Odena et al. 2016): every output pixel gets the same number of kernel taps,
            # so no checkerboard is built into the layer
            return [nn.Upsample(scale_factor=2, mode="nearest"),
                    _maybe_spectral_norm(nn.Conv2d(cin, cout, kernel_size=3, padding=1), sn)]

        self.decoder = nn.Sequential(
            *up(4 * c, 2 * c),
            norm(2 * c),
            nn.ReLU(inplace=True),
            *up(2 * c, c),
            norm(c),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(3),
            nn.Conv2d(c, out_channels, kernel_size=7, padding=0),  # the output layer: never spectrally normalised
        )
        if init:
            init_weights(self)

    def _check_input(self, x: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor) or x.dim() != 4:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise UsageError(
                f"{type(self).__name__} expects a 4-D tensor (B, {self.in_channels}, H, W), got {shape}"
            )
        if x.shape[1] != self.in_channels:
            raise UsageError(
                f"{type(self).__name__} expects {self.in_channels} input channels ({self._input_doc}), "
                f"got {x.shape[1]} (input shape {tuple(x.shape)})"
            )
        h, w = x.shape[-2:]
        if h % 4 or w % 4:
            raise UsageError(
                f"{type(self).__name__}: height and width must be divisible by 4 (two stride-2 stages), "
                f"got {h}x{w}; pad the input first (e.g. to {-(-h // 4) * 4}x{-(-w // 4) * 4})"
            )
        # reflection padding needs more pixels than it pads: 3 at full size, 2 (dilation) at H/4
        smallest = 12 if self.residual_blocks else 4
        if h < smallest or w < smallest:
            raise UsageError(f"{type(self).__name__}: input {h}x{w} is too small (at least {smallest}x{smallest})")

    _input_doc = ""

    def raw_output(self, x: torch.Tensor) -> torch.Tensor:
        """The output before the final activation, ``decoder(middle(encoder(x)))``, shape (B, out, H, W)."""
        self._check_input(x)
        return self.decoder(self.middle(self.encoder(x)))


class EdgeGenerator(_Generator):
    """G1: predicts an edge map in the hole (Sec. 3.1).

    Input ``(B, 3, H, W)`` = ``cat(gray_masked, edges_masked, mask)``; output ``(B, 1, H, W)`` edge
    probabilities in (0, 1) (sigmoid). H and W must be divisible by 4. Spectral norm on every convolution but
    the output 7x7 one (as in the paper and the authors' code).

    ``prefill`` (not in the paper; off by default) changes no weight, like G2's ``colour_reference``: it tells
    :func:`edgeconnect_lib.pipeline.edge_outputs` to put a classical guess in the hole of the edge channel, the
    Canny edges of the pull-push fill (:func:`edgeconnect_lib.pipeline.prefill_edges`), instead of zeros. G1 then
    corrects and continues lines it is shown rather than drawing them from nothing. Why: the in-hole edge F1 of
    a G1 trained on a CPU budget stayed below that of the Canny edges of a Telea fill (issue 18; ``evaluate``'s
    edge-map section and ``data/README.md``).
    """

    _input_doc = "gray, masked edges, mask"

    def __init__(
        self,
        base_channels: int = 64,
        residual_blocks: int = 8,
        use_spectral_norm: bool = True,
        init: bool = True,
        upsample: str = "transpose",
        prefill: bool = False,
    ) -> None:
        if not isinstance(prefill, bool):
            raise UsageError(f"prefill={prefill!r}: expected True or False")
        super().__init__(
            in_channels=3,
            out_channels=1,
            base_channels=base_channels,
            residual_blocks=residual_blocks,
            use_spectral_norm=use_spectral_norm,
            init=init,
            upsample=upsample,
        )
        self.prefill = prefill

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # C_pred = sigmoid(G1(x)), (B, 1, H, W)
        return torch.sigmoid(self.raw_output(x))


class InpaintGenerator(_Generator):
    """G2: paints the hole from the masked image and the edge map (Sec. 3.2).

    Input ``(B, 4, H, W)`` = ``cat(rgb_masked, edges)``; output ``(B, 3, H, W)`` RGB in [0, 1] as
    ``(tanh(x) + 1) / 2``. H and W must be divisible by 4. No spectral norm (the authors found it slowed
    G2's training down a lot).

    ``colour_reference`` (not in the paper; off by default, as in the authors' networks) changes no weight: it tells
    :func:`edgeconnect_lib.models.inpaint_outputs` to shift the known pixels' mean colour to grey before G2 and back
    after it. Instance normalisation right after the first convolution removes every feature map's mean, so G2
    alone is nearly blind to an image's overall colour and must guess it (lesson 08 measures this, and the gain).

    ``prefill`` (not in the paper; off by default): G2 paints a correction to a classical fill instead of the
    whole hole. :func:`edgeconnect_lib.pipeline.inpaint_outputs` fills the hole with the pull-push fill
    (:func:`edgeconnect_lib.prefill.pull_push_fill`) instead of white and passes the mask as a fifth channel;
    the output is ``clamp(x_rgb + tanh(G2(x)), 0, 1)``, the input's RGB plus a residual. Why: G2 trained on a CPU
    budget paints blurry pixels next to the hole's edge, where a diffusion fill is nearly exact (issue 18's
    diagnosis: 19.1 dB against Telea's 23.2 in the first 2 px); the residual starts from the fill there and
    keeps G2's gain deep in the hole. :func:`with_prefill` turns a trained G2 into one. Not with
    ``colour_reference`` (the fill already carries the colour).
    """

    _input_doc = "masked RGB, edges"

    def __init__(self, base_channels: int = 64, residual_blocks: int = 8, init: bool = True,
                 colour_reference: bool = False, upsample: str = "transpose", prefill: bool = False) -> None:
        if not isinstance(prefill, bool):
            raise UsageError(f"prefill={prefill!r}: expected True or False")
        if prefill and colour_reference:
            raise UsageError("prefill=True with colour_reference=True: the pull-push fill already gives G2 the "
                             "colour; set colour_reference=False")
        super().__init__(
            in_channels=5 if prefill else 4,
            out_channels=3,
            base_channels=base_channels,
            residual_blocks=residual_blocks,
            use_spectral_norm=False,
            init=init,
            upsample=upsample,
        )
        if not isinstance(colour_reference, bool):
            raise UsageError(f"colour_reference={colour_reference!r}: expected True or False")
        self.colour_reference = colour_reference
        self.prefill = prefill
        if prefill:
            self._input_doc = "pre-filled RGB, edges, mask"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.prefill:  # I_pred = clamp(x_rgb + tanh(G2(x)), 0, 1): a correction to the pre-filled image
            return (x[:, :3] + torch.tanh(self.raw_output(x))).clamp(0.0, 1.0)
        # I_pred = (tanh(G2(x)) + 1) / 2 in [0, 1], (B, 3, H, W)
        return (torch.tanh(self.raw_output(x)) + 1) / 2


class PatchDiscriminator(nn.Module):
    """70x70 PatchGAN discriminator (Sec. 3.1-3.2, after Isola et al. 2017), used as D1 and D2.

    Five 4x4 convolutions with strides 2, 2, 2, 1, 1, padding 1 and widths c, 2c, 4c, 8c, 1 (c =
    ``base_channels``, 64 in the paper), LeakyReLU(0.2) after the first four; spectral norm on all five and no
    biases when it is on. D1 sees ``cat(gray, edges)`` (2 channels), D2 sees RGB (3 channels).

    ``forward(x)`` returns ``(out, [f1, f2, f3, f4, f5])``: ``out`` is the last feature map ``f5`` of shape
    (B, 1, H', W'), one score per 70x70 patch, as logits, or passed through a sigmoid when
    ``use_sigmoid=True`` (the authors' D did so for their ``nsgan`` loss; the course's losses take logits).
    The features ``f1..f5`` feed the feature-matching loss L_FM (Sec. 3.1).
    """

    def __init__(
        self,
        in_channels: int,
        base_channels: int = 64,
        use_spectral_norm: bool = True,
        use_sigmoid: bool = False,
        init: bool = True,
    ) -> None:
        super().__init__()
        _check_positive_int("in_channels", in_channels)
        _check_positive_int("base_channels", base_channels)
        self.in_channels = in_channels
        self.base_channels = base_channels
        self.use_spectral_norm = use_spectral_norm
        self.use_sigmoid = use_sigmoid
        c = base_channels
        sn = use_spectral_norm
        bias = not sn

        def conv(cin: int, cout: int, stride: int) -> nn.Module:
            return _maybe_spectral_norm(
                nn.Conv2d(cin, cout, kernel_size=4, stride=stride, padding=1, bias=bias), sn
            )

        # keys conv1.0 ... conv5.0; sizes for a 256x256 input in the comments
        self.conv1 = nn.Sequential(conv(in_channels, c, 2), nn.LeakyReLU(0.2, inplace=True))  # (B, c, 128, 128)
        self.conv2 = nn.Sequential(conv(c, 2 * c, 2), nn.LeakyReLU(0.2, inplace=True))  # (B, 2c, 64, 64)
        self.conv3 = nn.Sequential(conv(2 * c, 4 * c, 2), nn.LeakyReLU(0.2, inplace=True))  # (B, 4c, 32, 32)
        self.conv4 = nn.Sequential(conv(4 * c, 8 * c, 1), nn.LeakyReLU(0.2, inplace=True))  # (B, 8c, 31, 31)
        self.conv5 = nn.Sequential(conv(8 * c, 1, 1))  # (B, 1, 30, 30)
        if init:
            init_weights(self)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[1] != self.in_channels:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise UsageError(
                f"PatchDiscriminator expects a tensor (B, {self.in_channels}, H, W) "
                f"(in_channels={self.in_channels}), got {shape}"
            )
        if min(x.shape[-2:]) < 24:
            raise UsageError(
                f"PatchDiscriminator: input {tuple(x.shape[-2:])} is too small; it needs at least 24x24 "
                "to give one output score"
            )
        f1 = self.conv1(x)
        f2 = self.conv2(f1)
        f3 = self.conv3(f2)
        f4 = self.conv4(f3)
        f5 = self.conv5(f4)
        out = torch.sigmoid(f5) if self.use_sigmoid else f5
        return out, [f1, f2, f3, f4, f5]


# --------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------


def init_weights(module: nn.Module, kind: str = "normal", gain: float = 0.02) -> nn.Module:
    """Initialise convolution weights as the authors did (their ``BaseNetwork.init_weights``), in place.

    ``kind``: ``"normal"`` (N(0, gain^2), the authors' default with gain 0.02), ``"xavier"``, ``"kaiming"``
    or ``"orthogonal"``. Biases are set to 0. For a spectrally normalised layer the raw weight
    ``weight_orig`` is initialised (what the authors' code also changed, through a shared storage).
    Returns ``module``.
    """
    kinds = ("normal", "xavier", "kaiming", "orthogonal")
    if kind not in kinds:
        raise UsageError(f"kind={kind!r}: choose one of {kinds}")
    for m in module.modules():
        if not isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            continue
        weight = m.weight_orig if hasattr(m, "weight_orig") else m.weight
        with torch.no_grad():
            if kind == "normal":
                nn.init.normal_(weight, 0.0, gain)
            elif kind == "xavier":
                nn.init.xavier_normal_(weight, gain=gain)
            elif kind == "kaiming":
                nn.init.kaiming_normal_(weight, a=0, mode="fan_in")
            else:
                nn.init.orthogonal_(weight, gain=gain)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)
            if hasattr(m, "weight_orig"):
                # as when the hook is applied: `weight` holds the raw weight until the next forward
                m.weight = weight.data
    return module


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters, counted as the authors did: ``sum(p.numel() for p in module.parameters())``.

    Shared parameters count once; spectral norm's ``weight_u`` / ``weight_v`` are buffers, not counted.
    """
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def receptive_field(
    discriminator: nn.Module | None = None,
    *,
    kernel_sizes: Sequence[int] | None = None,
    strides: Sequence[int] | None = None,
    dilations: Sequence[int] | None = None,
) -> int:
    """Receptive field (in input pixels, per side) of a stack of convolutions.

    ``r = 1 + sum_i d_i (k_i - 1) * prod_{j < i} s_j`` (each layer adds ``d (k - 1)`` of its input, measured
    in pixels of the network's input by the product of the strides before it). For EdgeConnect's
    discriminator: ``1 + 3 * (1 + 2 + 4 + 8 + 8) = 70``.

    Pass either a module (its ``nn.Conv2d`` layers are taken in order; padding does not change the size) or
    ``kernel_sizes`` and ``strides`` (and optionally ``dilations``).
    """
    if discriminator is not None:
        if kernel_sizes is not None or strides is not None:
            raise UsageError("receptive_field: pass either a module or kernel_sizes/strides, not both")
        convs = [m for m in discriminator.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
        if not convs:
            raise UsageError(f"receptive_field: {type(discriminator).__name__} has no nn.Conv2d layers")
        if any(isinstance(m, nn.ConvTranspose2d) for m in convs):
            raise UsageError(
                "receptive_field: transposed convolutions are not supported (use it on a discriminator)"
            )
        for m in convs:
            if m.kernel_size[0] != m.kernel_size[1] or m.stride[0] != m.stride[1]:
                raise UsageError("receptive_field: only square kernels and strides are supported")
        kernel_sizes = [m.kernel_size[0] for m in convs]
        strides = [m.stride[0] for m in convs]
        dilations = [m.dilation[0] for m in convs]
    if kernel_sizes is None or strides is None:
        raise UsageError("receptive_field: pass a module, or both kernel_sizes= and strides=")
    kernel_sizes, strides = list(kernel_sizes), list(strides)
    dilations = [1] * len(kernel_sizes) if dilations is None else list(dilations)
    if not (len(kernel_sizes) == len(strides) == len(dilations)):
        raise UsageError(
            f"receptive_field: kernel_sizes ({len(kernel_sizes)}), strides ({len(strides)}) and dilations "
            f"({len(dilations)}) must have the same length"
        )
    r, jump = 1, 1  # jump = product of the strides so far (input pixels per step of this layer's input)
    for k, s, d in zip(kernel_sizes, strides, dilations):
        # r += d (k - 1) * prod_{j<i} s_j
        r += d * (k - 1) * jump
        jump *= s
    return r


def _upsample_entry(module: nn.Module) -> dict:
    # written only when it is not the paper's, so that configs of transposed-convolution networks stay as they were
    kind = getattr(module, "upsample", "transpose")
    return {} if kind == "transpose" else {"upsample": kind}


def network_config(module: nn.Module) -> dict:
    """Constructor arguments that rebuild ``module`` with :func:`build_network` (class name included)."""
    if isinstance(module, EdgeGenerator):
        return {
            "class": "EdgeGenerator",
            "base_channels": module.base_channels,
            "residual_blocks": module.residual_blocks,
            "use_spectral_norm": module.use_spectral_norm,
            **_upsample_entry(module),
            **({"prefill": True} if module.prefill else {}),
        }
    if isinstance(module, InpaintGenerator):
        return {
            "class": "InpaintGenerator",
            "base_channels": module.base_channels,
            "residual_blocks": module.residual_blocks,
            "colour_reference": module.colour_reference,
            **_upsample_entry(module),
            **({"prefill": True} if module.prefill else {}),
        }
    if isinstance(module, PatchDiscriminator):
        return {
            "class": "PatchDiscriminator",
            "in_channels": module.in_channels,
            "base_channels": module.base_channels,
            "use_spectral_norm": module.use_spectral_norm,
            "use_sigmoid": module.use_sigmoid,
        }
    raise UsageError(f"network_config: {type(module).__name__} is not one of EdgeConnect's networks")


_CLASSES = {"EdgeGenerator": EdgeGenerator, "InpaintGenerator": InpaintGenerator,
            "PatchDiscriminator": PatchDiscriminator}


def build_network(config: dict, init: bool = True) -> nn.Module:
    """Build the network described by ``config`` (as returned by :func:`network_config`)."""
    config = dict(config)
    name = config.pop("class", None)
    if name not in _CLASSES:
        raise UsageError(f"build_network: config['class']={name!r}; expected one of {sorted(_CLASSES)}")
    try:
        return _CLASSES[name](**config, init=init)
    except TypeError as err:
        raise UsageError(f"build_network: bad arguments for {name}: {config} ({err})") from err


def _iter_sn_layers(module: nn.Module) -> Iterable[tuple[str, nn.Module]]:
    """(name, layer) of every layer carrying the legacy spectral-norm hook."""
    for name, m in module.named_modules():
        if hasattr(m, "weight_orig"):
            yield name, m


def refresh_spectral_norm(module: nn.Module, iterations: int = 10) -> nn.Module:
    """Run ``iterations`` power-iteration steps on every spectrally normalised layer of ``module``.

    The legacy hook does one step per *training* forward pass and none in eval mode, so a freshly built
    network's sigma estimates start from random vectors. Calling this (under ``torch.no_grad``) makes
    ``weight = weight_orig / sigma`` accurate without running data through the network. Returns ``module``.
    """
    from torch.nn.utils.spectral_norm import SpectralNorm

    _check_positive_int("iterations", iterations)
    for _, layer in _iter_sn_layers(module):
        for hook in layer._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm):
                hook.n_power_iterations, saved = iterations, hook.n_power_iterations
                try:
                    with torch.no_grad():
                        setattr(layer, hook.name, hook.compute_weight(layer, do_power_iteration=True))
                finally:
                    hook.n_power_iterations = saved
    return module


# ----------------------------------------------------------------------------------------------------------
# From transposed convolutions to resize-convolutions (a warm start for upsample="resize")
# ----------------------------------------------------------------------------------------------------------
# Along one axis, a 4-tap transposed convolution with stride 2 and padding 1 gives output 2m from x[m] K1 +
# x[m-1] K3 and output 2m+1 from x[m] K2 + x[m+1] K0: two different 2-tap filters, one per output phase, which is
# the checkerboard. Nearest-neighbour doubling then a 3-tap convolution W gives x[m-1] W0 + x[m] (W1 + W2) and
# x[m] (W0 + W1) + x[m+1] W2, i.e. taps A @ W with A below (rows: K0..K3). The closest W in least squares is
# pinv(A) @ K along each axis: the two phases' filters are averaged, which is what removes the checkerboard.
_PHASE_TAPS = torch.tensor([[0.0, 0.0, 1.0],   # K0 <- W2
                            [0.0, 1.0, 1.0],   # K1 <- W1 + W2
                            [1.0, 1.0, 0.0],   # K2 <- W0 + W1
                            [1.0, 0.0, 0.0]])  # K3 <- W0


def resize_kernel_from_transpose(weight: torch.Tensor) -> torch.Tensor:
    """The 3x3 kernel of ``Upsample(2, nearest) + Conv2d(padding=1)`` closest in least squares to a 4x4, stride-2,
    padding-1 transposed convolution's ``weight``.

    ``weight``: ``(C_in, C_out, 4, 4)`` (``nn.ConvTranspose2d`` layout) -> ``(C_out, C_in, 3, 3)`` (``nn.Conv2d``).
    Per axis the transposed kernel ``K`` is matched by taps ``A W`` (see ``_PHASE_TAPS``), so ``W = P K P^T`` with
    ``P = pinv(A)``: exact when the two output phases of ``K`` agree (a checkerboard-free kernel), their
    least-squares average otherwise. Used by :func:`to_resize_upsampling` to start a resize-convolution network
    from a trained transposed-convolution one instead of from scratch.
    """
    if weight.dim() != 4 or tuple(weight.shape[-2:]) != (4, 4):
        raise UsageError(f"resize_kernel_from_transpose: expected a (C_in, C_out, 4, 4) kernel, got {tuple(weight.shape)}")
    pinv = torch.linalg.pinv(_PHASE_TAPS.double())                       # (3, 4)
    w = torch.einsum("pk,iokl,ql->oipq", pinv, weight.double(), pinv)    # (C_out, C_in, 3, 3)
    return w.to(weight.dtype)


def with_prefill(generator: nn.Module) -> InpaintGenerator:
    """A copy of a trained G2 (``prefill=False``) with ``prefill=True`` whose output is exactly the pull-push fill
    at first: every weight copied, the first convolution given a fifth input channel (the mask) with zero
    weights, and the output convolution's weights and bias set to zero, so ``tanh(G2(x)) = 0`` and the output is
    the pre-filled input (as a zero-initialised residual branch). Fine-tuning then learns the correction; the
    copied layers keep what G2 learnt about photos. ``colour_reference`` is turned off (see
    :class:`InpaintGenerator`)."""
    if not isinstance(generator, InpaintGenerator) or generator.prefill:
        raise UsageError("with_prefill: expected an InpaintGenerator with prefill=False")
    config = {**network_config(generator), "prefill": True, "colour_reference": False}
    new = build_network(config, init=True)
    state = new.state_dict()
    first = "encoder.1.weight"
    last = [n for n, m in new.decoder.named_children() if isinstance(m, nn.Conv2d)][-1]
    for key, value in generator.state_dict().items():
        if key == first:
            value = torch.cat((value, torch.zeros_like(value[:, :1])), dim=1)  # the mask channel: no effect yet
        elif key.startswith(f"decoder.{last}."):
            value = torch.zeros_like(value)                                   # the residual starts at zero
        state[key] = value
    new.load_state_dict(state)
    return new


def to_resize_upsampling(generator: nn.Module) -> nn.Module:
    """A copy of a trained ``upsample="transpose"`` generator with ``upsample="resize"``: every weight copied,
    each transposed convolution replaced by the closest resize-convolution (:func:`resize_kernel_from_transpose`).

    Both upsampling layers are followed by instance normalisation, so the spectral norm's rescaling of the new
    kernels (``weight = weight_orig / sigma``) changes nothing after them. The copy's output is close to the
    original's, without its checkerboard; fine-tuning then starts from there (``data/README.md``, issue 18).
    """
    if not isinstance(generator, _Generator) or generator.upsample != "transpose":
        raise UsageError("to_resize_upsampling: expected an EdgeGenerator or InpaintGenerator with upsample='transpose'")
    config = {**network_config(generator), "upsample": "resize"}
    new = build_network(config, init=True)
    old_state = generator.state_dict()
    ups_old = [n for n, m in generator.decoder.named_children() if isinstance(m, nn.ConvTranspose2d)]
    ups_new = [n for n, m in new.decoder.named_children() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]
    rename = dict(zip(ups_old, ups_new))
    last_old = [n for n, m in generator.decoder.named_children() if isinstance(m, nn.Conv2d)][-1]
    last_new = [n for n, m in new.decoder.named_children() if isinstance(m, nn.Conv2d)][-1]
    rename[last_old] = last_new
    state = new.state_dict()  # keeps the spectral norm's version metadata that load_state_dict checks
    fresh = set(state)
    for key, value in old_state.items():
        parts = key.split(".")
        if parts[0] == "decoder":
            old_index = parts[1]
            parts[1] = rename[old_index]
            if old_index in ups_old and parts[2] in ("weight", "weight_orig"):
                value = resize_kernel_from_transpose(value)
            elif old_index in ups_old and parts[2] in ("weight_u", "weight_v"):
                continue  # the power iteration's vectors: refreshed below for the new kernel's shape
        name = ".".join(parts)
        if name not in fresh:
            raise RuntimeError(f"to_resize_upsampling: {key} has no place in the resize network ({name})")
        state[name] = value
    new.load_state_dict(state)
    refresh_spectral_norm(new, iterations=30)  # sigma of the new kernels (no-op without spectral norm)
    return new

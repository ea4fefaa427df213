"""Editing the edges by hand: EdgeConnect's user-guided inpainting and object removal (Nazeri et al. 2019, the
paper's editing figures: a hole painted over an object, edges drawn into it, the image completed from them).
Lesson 10 teaches it.

The model's convention (:class:`edgeconnect_lib.pipeline.EdgeConnect`) decides what an edited edge map is. ``G_inpaint``
reads ONE edge map: in the known region, the Canny edges of the photo with the hole masked out
(``canny_edges(gray, sigma, mask=hole)``, the authors' test-time edges); in the hole, ``G_edge``'s prediction, or
here the user's drawing (Eq. 4: ``C_comp = C_gt * (1 - M) + C_pred * M``). So the editor keeps three arrays, the only
source of truth (a canvas only shows them):

* ``image`` (H, W, 3) float32 in [0, 1], rounded to 8 bits so that the PNG :meth:`EdgeEdit.save` writes is exact;
* ``mask`` (H, W) bool, True = hole;
* ``hole_edges`` (H, W) bool, the edges inside the hole (always False outside it);

and the edge map given to ``G_inpaint`` is ``compose_edges(known_edges(image, mask), hole_edges, mask)``. Edits of
the edges only ever change the hole: outside it the model's input is Canny of the photo, whatever one draws.

Two layers:

* plain NumPy functions (``brush_stroke``, ``paint_hole``, ``erase_hole``, ``edge_line``, ``draw_edge``,
  ``erase_edge``, ``known_edges``, ``compose_edges``, ``predict_edges``, ``save_edges`` / ``load_edges``) and
  :class:`EdgeEdit`, the editing state with an undo history, testable without any widget;
* :class:`EdgeEditor`, an ipycanvas ``MultiCanvas`` (image, hole and edge layers) with tool buttons, whose mouse
  handlers (:meth:`EdgeEditor.on_mouse_down` / ``on_mouse_move`` / ``on_mouse_up``) are plain methods a test can call.

Points are ``(x, y)`` pixel coordinates (column, row), as mouse events give them; strokes are polylines.
Files: ``save_edges`` writes an 8-bit PNG with 255 = edge, 0 = none, which is what ``python -m edgeconnect_lib
inpaint --edges FILE`` and ``load_edges`` read (:func:`edgeconnect_lib.masks.load_edge_map`: a single-channel binary
file, a non-zero pixel is an edge; the one meaning of "edge" of the editor and the command line).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, NamedTuple, Sequence

import cv2
import numpy as np
import torch

from .edges import canny_edges
from .errors import UsageError
from .fileio import encode_image, write_png
from .images import rgb_to_gray, to_uint8
from .masks import hole_ratio, load_edge_map

__all__ = [
    "brush_stroke",
    "paint_hole",
    "erase_hole",
    "edge_line",
    "draw_edge",
    "erase_edge",
    "known_edges",
    "compose_edges",
    "predict_edges",
    "save_edges",
    "load_edges",
    "save_image",
    "EditFiles",
    "EdgeEdit",
    "EdgeEditor",
    "TOOLS",
]

#: The editor's tools: what a mouse stroke does.
TOOLS = ("paint_hole", "erase_hole", "draw_edge", "erase_edge")


# ----------------------------------------------------------------------------------------------------------
# Strokes on arrays
# ----------------------------------------------------------------------------------------------------------
def _points(points: Iterable[Sequence[float]]) -> np.ndarray:
    """``(N, 2)`` int32 ``(x, y)`` pixel positions, rounded to the nearest pixel."""
    pts = np.asarray(list(points) if not isinstance(points, np.ndarray) else points, dtype=np.float64)
    if pts.ndim == 1 and pts.shape == (2,):
        pts = pts[None]
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) == 0:
        raise UsageError(f"a stroke is a non-empty sequence of (x, y) points, got an array of shape {pts.shape}")
    if not np.all(np.isfinite(pts)):
        raise UsageError("a stroke's points must be finite numbers")
    # far outside the image: clip so that OpenCV's int32 coordinates cannot overflow (it clips lines itself)
    return np.clip(np.rint(pts), -(1 << 20), 1 << 20).astype(np.int32)


def _shape(shape: Sequence[int]) -> tuple[int, int]:
    if len(shape) < 2 or int(shape[0]) < 1 or int(shape[1]) < 1:
        raise UsageError(f"shape must be (height, width) with positive sides, got {tuple(shape)}")
    return int(shape[0]), int(shape[1])


def _bool_map(arr: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.ndim != 2:
        raise UsageError(f"{name} must be an H x W map, got shape {arr.shape}")
    return arr.astype(bool) if arr.dtype != np.bool_ else arr


def brush_stroke(shape: Sequence[int], points: Iterable[Sequence[float]], size: int) -> np.ndarray:
    """The pixels a round brush of diameter ``size`` covers along the polyline ``points``, bool (H, W).

    A disc of radius ``(size - 1) // 2`` is stamped on every point and the points are joined by lines of the
    disc's width (``2 * radius + 1``, so an even ``size`` paints like the odd size below it); ``size=1`` paints
    one pixel per point and a 1-px line between them. Points outside the image are allowed (clipped).
    """
    h, w = _shape(shape)
    if int(size) < 1:
        raise UsageError(f"brush size={size!r}: must be at least 1 pixel")
    radius = (int(size) - 1) // 2
    pts = _points(points)
    canvas = np.zeros((h, w), np.uint8)
    for p, q in zip(pts[:-1], pts[1:]):
        cv2.line(canvas, tuple(map(int, p)), tuple(map(int, q)), 1, thickness=2 * radius + 1, lineType=cv2.LINE_8)
    for p in pts:
        cv2.circle(canvas, tuple(map(int, p)), radius, 1, thickness=-1, lineType=cv2.LINE_8)
    return canvas.astype(bool)


def paint_hole(mask: np.ndarray, points: Iterable[Sequence[float]], size: int) -> np.ndarray:
    """A new mask: ``mask`` plus a brush stroke of diameter ``size`` (True = hole)."""
    mask = _bool_map(mask, "mask")
    return mask | brush_stroke(mask.shape, points, size)


def erase_hole(mask: np.ndarray, points: Iterable[Sequence[float]], size: int) -> np.ndarray:
    """A new mask: ``mask`` with a brush stroke of diameter ``size`` made known again."""
    mask = _bool_map(mask, "mask")
    return mask & ~brush_stroke(mask.shape, points, size)


def edge_line(shape: Sequence[int], points: Iterable[Sequence[float]]) -> np.ndarray:
    """A 1-pixel-wide polyline through ``points`` (8-connected, OpenCV's Bresenham), bool (H, W).

    One point gives one pixel. These are the thin lines Canny draws, so a drawn edge looks to ``G_inpaint``
    like the edges it was trained on.
    """
    h, w = _shape(shape)
    pts = _points(points)
    canvas = np.zeros((h, w), np.uint8)
    if len(pts) == 1:
        pts = np.concatenate([pts, pts])
    for p, q in zip(pts[:-1], pts[1:]):
        cv2.line(canvas, tuple(map(int, p)), tuple(map(int, q)), 1, thickness=1, lineType=cv2.LINE_8)
    return canvas.astype(bool)


def draw_edge(edges: np.ndarray, points: Iterable[Sequence[float]], mask: np.ndarray | None = None) -> np.ndarray:
    """A new edge map: ``edges`` plus a 1-px line through ``points``; with ``mask``, only inside the hole."""
    edges = _bool_map(edges, "edges")
    line = edge_line(edges.shape, points)
    if mask is not None:
        line &= _bool_map(mask, "mask")
    return edges | line


def erase_edge(edges: np.ndarray, points: Iterable[Sequence[float]], size: int) -> np.ndarray:
    """A new edge map: ``edges`` with the pixels under a brush stroke of diameter ``size`` removed."""
    edges = _bool_map(edges, "edges")
    return edges & ~brush_stroke(edges.shape, points, size)


# ----------------------------------------------------------------------------------------------------------
# The model's edge map: Canny outside the hole, G_edge or the user inside
# ----------------------------------------------------------------------------------------------------------
def known_edges(image: np.ndarray, mask: np.ndarray, sigma: float = 2.0) -> np.ndarray:
    """The known region's edges as :meth:`EdgeConnect.inpaint` computes them: Canny of the gray image with the
    hole masked out (nothing in the hole, nor on the pixels touching it), bool (H, W)."""
    return canny_edges(rgb_to_gray(image), sigma=sigma, mask=_bool_map(mask, "mask"))


def compose_edges(known: np.ndarray, hole_edges: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``C_comp = known * (1 - M) + hole_edges * M`` (paper Eq. 4), bool (H, W): G_inpaint's edge input."""
    known, hole_edges, mask = (_bool_map(a, n) for a, n in ((known, "known"), (hole_edges, "hole_edges"), (mask, "mask")))
    if not (known.shape == hole_edges.shape == mask.shape):
        raise UsageError(f"shapes differ: known {known.shape}, hole_edges {hole_edges.shape}, mask {mask.shape}")
    return np.where(mask, hole_edges, known)


@torch.no_grad()
def predict_edges(pipeline, image: np.ndarray, mask: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """``G_edge``'s edges in the hole composed with the known region's Canny edges, bool (H, W).

    The map is the pipeline's own (:meth:`EdgeConnect.edge_map`: the same Canny, the same
    padding as :meth:`EdgeConnect.inpaint`), and ``G_edge``'s soft output is thresholded at ``threshold``: an
    editable map is binary, like the maps the command line reads with ``--edges`` (a grey level above one half is
    an edge).
    """
    mask = _bool_map(mask, "mask")
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[:2] != mask.shape:
        raise UsageError(f"image must be H x W x 3 with the mask's size {mask.shape}, got {image.shape}")
    return pipeline.edge_map(image, mask) > threshold


def save_edges(edges: np.ndarray, path: str | Path) -> Path:
    """Write an edge map as an 8-bit PNG, 255 = edge, 0 = none: the file ``inpaint --edges`` reads.

    Atomic (:func:`~edgeconnect_lib.fileio.atomic_write`): a failed save leaves an earlier file of that name
    as it was, never half written; it raises an ``OSError`` with one clear line (see :func:`save_image`)."""
    return write_png(_bool_map(edges, "edges").astype(np.uint8) * 255, path, "edge map")


def load_edges(path: str | Path) -> np.ndarray:
    """Read an edge map file as the command line does (``inpaint --edges``,
    :func:`edgeconnect_lib.masks.load_edge_map`): a single-channel binary file, non-zero (above half its maximum)
    = edge; a colour image or a photo is refused with a ``ValueError``."""
    return load_edge_map(path)


def save_image(image: np.ndarray, path: str | Path) -> Path:
    """Write an image as an 8-bit PNG, atomically, with the library's one image writer
    (:func:`edgeconnect_lib.fileio.write_png`): RGB (H x W x 3) or grey (H x W); floats in [0, 1] (rounded to the
    nearest level) or ``uint8`` levels as they are. A path not ending in ``.png``, NaN or infinite values, or floats
    far outside [0, 1] raise ``ValueError``; a failed write a :class:`~edgeconnect_lib.fileio.FileWriteError` (an
    ``OSError``) whose message is one line naming the path and the cause (a folder, a path under a file, a
    read-only file or folder, a full disk); the earlier file is kept, never half written."""
    return write_png(image, path, "image")


class EditFiles(NamedTuple):
    """The files :meth:`EdgeEdit.save` writes (``result`` is None before any inpainting)."""

    image: Path
    mask: Path
    edges: Path
    result: Path | None


# ----------------------------------------------------------------------------------------------------------
# The editing state
# ----------------------------------------------------------------------------------------------------------
class EdgeEdit:
    """One photo being edited: ``image``, ``mask`` (True = hole), ``hole_edges`` (inside the hole only), an undo
    history, the last ``G_edge`` prediction and the last inpainting ``result``.

    Each editing method takes a whole stroke (a polyline); ``record=False`` continues the previous undo step
    instead of opening a new one (a mouse drag sends one segment per move but is undone as one stroke).
    Painting the hole over new pixels leaves them without edges: :meth:`reset_edges` asks ``G_edge`` for the
    current hole, :meth:`clear_edges` empties it, and drawing fills it by hand.
    """

    def __init__(self, image: np.ndarray, mask: np.ndarray | None = None, hole_edges: np.ndarray | None = None,
                 sigma: float = 2.0, max_undo: int = 200) -> None:
        image = np.asarray(image, dtype=np.float32)
        if image.ndim != 3 or image.shape[2] != 3:
            raise UsageError(f"image must be H x W x 3 (RGB in [0, 1]), got shape {image.shape}")
        # 8-bit levels: what save() writes as PNG is then exactly the image inpainted here
        self.image = np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.float32) / 255
        shape = image.shape[:2]
        self.mask = np.zeros(shape, bool) if mask is None else _bool_map(mask, "mask").copy()
        if self.mask.shape != shape:
            raise UsageError(f"mask has shape {self.mask.shape}, the image {shape}: they must match")
        he = np.zeros(shape, bool) if hole_edges is None else _bool_map(hole_edges, "hole_edges")
        if he.shape != shape:
            raise UsageError(f"hole_edges has shape {he.shape}, the image {shape}: they must match")
        self.hole_edges = he & self.mask
        self.sigma = float(sigma)
        self.max_undo = int(max_undo)
        self.history: list[tuple[np.ndarray, np.ndarray]] = []
        self.predicted: np.ndarray | None = None  # G_edge's full edge map for self.predicted_mask
        self.predicted_mask: np.ndarray | None = None
        self.result = None  # the last InpaintResult
        self._known_for: np.ndarray | None = None
        self._known: np.ndarray | None = None

    # -- derived maps ------------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return self.mask.shape

    @property
    def known(self) -> np.ndarray:
        """Canny edges of the known region for the current hole (cached per mask)."""
        if self._known is None or not np.array_equal(self._known_for, self.mask):
            self._known_for = self.mask.copy()
            self._known = known_edges(self.image, self.mask, self.sigma)
        return self._known

    @property
    def edges(self) -> np.ndarray:
        """The edge map G_inpaint gets: Canny outside the hole, ``hole_edges`` inside."""
        return compose_edges(self.known, self.hole_edges, self.mask)

    @property
    def hole_edge_count(self) -> int:
        """Edge pixels inside the hole (the editable ones)."""
        return int(np.count_nonzero(self.hole_edges))

    @property
    def edge_count(self) -> int:
        """Edge pixels of the whole map G_inpaint gets."""
        return int(np.count_nonzero(self.edges))

    @property
    def hole_ratio(self) -> float:
        return hole_ratio(self.mask)

    @property
    def prediction_is_current(self) -> bool:
        """Whether the last G_edge prediction was made for the current hole."""
        return self.predicted_mask is not None and np.array_equal(self.predicted_mask, self.mask)

    def masked_image(self) -> np.ndarray:
        """The input as the networks see it: the hole painted white."""
        return np.where(self.mask[..., None], 1.0, self.image).astype(np.float32)

    # -- undo --------------------------------------------------------------------------------------------
    def checkpoint(self) -> None:
        """Open an undo step: remember the current mask and hole edges."""
        self.history.append((self.mask.copy(), self.hole_edges.copy()))
        if len(self.history) > self.max_undo:
            del self.history[0]

    def undo(self) -> bool:
        """Go back one step; False when there is nothing to undo."""
        if not self.history:
            return False
        self.mask, self.hole_edges = self.history.pop()
        return True

    def _set(self, mask: np.ndarray | None = None, hole_edges: np.ndarray | None = None, record: bool = True) -> None:
        if record:
            self.checkpoint()
        if mask is not None:
            self.mask = mask
        if hole_edges is not None:
            self.hole_edges = hole_edges
        self.hole_edges = self.hole_edges & self.mask  # edges exist only in the hole

    # -- tools -------------------------------------------------------------------------------------------
    def paint_hole(self, points, size: int, record: bool = True) -> None:
        """Make the pixels under a brush stroke part of the hole (they start without edges)."""
        self._set(mask=paint_hole(self.mask, points, size), record=record)

    def erase_hole(self, points, size: int, record: bool = True) -> None:
        """Make the pixels under a brush stroke known again (their hole edges go)."""
        self._set(mask=erase_hole(self.mask, points, size), record=record)

    def draw_edge(self, points, record: bool = True) -> None:
        """Draw a 1-px edge along ``points``, inside the hole only."""
        self._set(hole_edges=draw_edge(self.hole_edges, points, self.mask), record=record)

    def erase_edge(self, points, size: int, record: bool = True) -> None:
        """Remove the hole edges under a brush stroke."""
        self._set(hole_edges=erase_edge(self.hole_edges, points, size), record=record)

    def apply(self, tool: str, points, size: int = 1, record: bool = True) -> None:
        """Apply one of :data:`TOOLS` along ``points``."""
        if tool not in TOOLS:
            raise UsageError(f"tool={tool!r}: choose one of {TOOLS}")
        if tool == "draw_edge":
            self.draw_edge(points, record=record)
        else:
            getattr(self, tool)(points, size, record=record)

    def clear_edges(self, record: bool = True) -> None:
        """No edges in the hole (G_inpaint then fills it from the colours around it alone)."""
        self._set(hole_edges=np.zeros(self.shape, bool), record=record)

    def reset_edges(self, pipeline, record: bool = True) -> np.ndarray:
        """Replace the hole edges by ``G_edge``'s prediction for the current hole; returns the full edge map.
        ``G_edge`` runs only when the hole changed since the last prediction."""
        if not self.prediction_is_current:
            self.predicted = predict_edges(pipeline, self.image, self.mask)
            self.predicted_mask = self.mask.copy()
        self._set(hole_edges=self.predicted & self.mask, record=record)
        return self.edges

    # -- results -----------------------------------------------------------------------------------------
    def inpaint(self, pipeline):
        """Inpaint the hole with the edited edges (``EdgeConnect.inpaint(image, mask, edges=self.edges)``)."""
        self.result = pipeline.inpaint(self.image, self.mask, edges=self.edges)
        return self.result

    def save(self, folder: str | Path, stem: str = "edit") -> EditFiles:
        """Write ``STEM.png`` (the photo), ``STEM_mask.png``, ``STEM_edges.png`` and, after :meth:`inpaint`,
        ``STEM_result.png`` to ``folder``: the first three are what ``python -m edgeconnect_lib inpaint --image
        --mask --edges`` reads (see :meth:`cli_args`)."""
        folder = Path(folder)
        image = save_image(self.image, folder / f"{stem}.png")
        mask = write_png(self.mask.astype(np.uint8) * 255, folder / f"{stem}_mask.png", "mask")  # as save_mask
        edges = save_edges(self.edges, folder / f"{stem}_edges.png")
        result = save_image(self.result.image, folder / f"{stem}_result.png") if self.result is not None else None
        return EditFiles(image, mask, edges, result)

    @staticmethod
    def cli_args(files: EditFiles, checkpoint: str | Path, out: str | Path, amp: str = "off") -> list[str]:
        """The command line arguments that redo a saved edit: ``python -m edgeconnect_lib`` + these.

        ``amp``: the precision of the pipeline that made the edit (``EdgeConnect.amp``; the library's default is
        fp32, ``"off"``), so that the command line redoes it exactly; the command line's own default, ``auto``,
        may use bf16, a few 8-bit levels away."""
        return ["inpaint", "--checkpoint", str(checkpoint), "--image", str(files.image), "--mask", str(files.mask),
                "--edges", str(files.edges), "--out", str(out), "--amp", amp]


# ----------------------------------------------------------------------------------------------------------
# The widget
# ----------------------------------------------------------------------------------------------------------
#: Colours (RGBA) of the layers: the hole as the networks see it (white, a little see-through so the object under
#: it stays visible), Canny edges of the known region, edges in the hole.
HOLE_RGBA = (255, 255, 255, 215)
KNOWN_EDGE_RGBA = (0, 110, 255, 255)
HOLE_EDGE_RGBA = (230, 0, 0, 255)


def _zoomed(a: np.ndarray, zoom: int) -> np.ndarray:
    return np.repeat(np.repeat(a, zoom, axis=0), zoom, axis=1) if zoom > 1 else a


class EdgeEditor:
    """A widget to edit a hole and its edges with the mouse, then inpaint (JupyterLab / Notebook 7, ipycanvas).

    ``EdgeEditor(pipeline, image, mask)`` (or ``EdgeEditor(pipeline, edit=an EdgeEdit)``); display it as the last
    expression of a cell. Layers of the ``MultiCanvas``, bottom to top: the photo, the hole (white), the edges
    (blue: Canny of the known region; red: edges in the hole, G_edge's or yours). Tools: paint hole, erase hole,
    draw edge (1 px), erase edge; a brush size; Undo; "Predicted edges" (reset the hole's edges to G_edge's for the
    current hole); "Inpaint" (runs the pipeline with the edited edges; the result appears beside the input);
    "Save" (writes the photo, mask, edges and result as PNGs to ``save_dir``, ready for the command line).

    The arrays of :attr:`edit` are the only state; the canvas is redrawn from them. The mouse handlers take
    canvas pixel coordinates (``zoom`` canvas pixels per image pixel) and can be called directly (tests do).
    """

    def __init__(self, pipeline, image: np.ndarray | None = None, mask: np.ndarray | None = None, *,
                 edit: EdgeEdit | None = None, zoom: int = 2, brush: int = 9, save_dir: str | Path = "edge_edit",
                 predict: bool = True) -> None:
        import ipywidgets as W
        from ipycanvas import MultiCanvas

        if edit is None:
            if image is None:
                raise UsageError("give an image (and optionally a mask), or edit=EdgeEdit(...)")
            edit = EdgeEdit(image, mask, sigma=pipeline.sigma)
        self.edit, self.pipeline = edit, pipeline
        self.zoom = int(zoom)
        if self.zoom < 1:
            raise UsageError(f"zoom={zoom!r}: must be a positive int")
        h, w = edit.shape
        self.canvas = MultiCanvas(3, width=w * self.zoom, height=h * self.zoom)
        self.canvas.add_class("ec-editor-canvas")
        self.image_layer, self.hole_layer, self.edge_layer = self.canvas[0], self.canvas[1], self.canvas[2]
        self.tool = W.ToggleButtons(options=[("paint hole", "paint_hole"), ("erase hole", "erase_hole"),
                                             ("draw edge", "draw_edge"), ("erase edge", "erase_edge")],
                                    value="draw_edge", description="tool")
        self.tool.style.button_width = "100px"
        self.brush = W.IntSlider(value=int(brush), min=1, max=61, step=2, description="brush (px)")
        self.undo_button = W.Button(description="Undo", icon="undo")
        self.reset_button = W.Button(description="Predicted edges", icon="magic",
                                     tooltip="reset the hole's edges to G_edge's prediction for the current hole")
        self.clear_button = W.Button(description="No edges", tooltip="remove every edge in the hole")
        self.inpaint_button = W.Button(description="Inpaint", icon="paint-brush", button_style="primary")
        self.save_button = W.Button(description="Save", icon="save")
        self.save_dir = W.Text(value=str(save_dir), description="save to")
        for b in (self.undo_button, self.reset_button, self.clear_button, self.inpaint_button, self.save_button):
            b.add_class("ec-editor-" + b.description.lower().replace(" ", "-"))
        self.status = W.Label()
        self.status.add_class("ec-editor-status")
        self.message = W.Label()
        self.message.add_class("ec-editor-message")
        self.result_view = W.Image(format="png", width=w * self.zoom, height=h * self.zoom)
        self.result_view.add_class("ec-editor-result")
        self.result_title = W.Label("the input as the networks see it (press Inpaint)")
        self.widget = W.VBox([
            W.HBox([self.tool, self.brush]),
            W.HBox([self.undo_button, self.reset_button, self.clear_button, self.inpaint_button, self.save_button,
                    self.save_dir]),
            W.HBox([W.VBox([W.Label("edit here: hole white, edges blue (known) / red (hole)"), self.canvas]),
                    W.VBox([self.result_title, self.result_view])]),
            self.status, self.message,
        ])
        self._last: tuple[float, float] | None = None
        self._shown_mask: np.ndarray | None = None
        self.canvas.on_mouse_down(self.on_mouse_down)
        self.canvas.on_mouse_move(self.on_mouse_move)
        self.canvas.on_mouse_up(self.on_mouse_up)
        self.canvas.on_mouse_out(self.on_mouse_out)
        self.canvas.on_client_ready(self.redraw)
        self.undo_button.on_click(lambda _: self.undo())
        self.reset_button.on_click(lambda _: self.reset_edges())
        self.clear_button.on_click(lambda _: self.clear_edges())
        self.inpaint_button.on_click(lambda _: self.inpaint())
        self.save_button.on_click(lambda _: self.save())
        if predict and edit.mask.any() and not edit.hole_edges.any():
            edit.reset_edges(pipeline, record=False)
        self.redraw()

    # -- display -----------------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any):
        return self.widget._repr_mimebundle_(**kwargs)

    def _layers(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """RGBA uint8 arrays (zoomed) of the image, hole and edge layers, drawn from the arrays."""
        e = self.edit
        rgb = to_uint8(e.image)
        image = np.concatenate([rgb, np.full(e.shape + (1,), 255, np.uint8)], axis=2)
        hole = np.zeros(e.shape + (4,), np.uint8)
        hole[e.mask] = HOLE_RGBA
        edges = np.zeros(e.shape + (4,), np.uint8)
        edges[e.known & ~e.mask] = KNOWN_EDGE_RGBA
        edges[e.hole_edges] = HOLE_EDGE_RGBA
        return tuple(_zoomed(a, self.zoom) for a in (image, hole, edges))

    def redraw(self, image: bool = True) -> None:
        """Redraw the layers from the arrays and update the status line (and, before any result, the input view)."""
        from ipycanvas import hold_canvas

        image_rgba, hole_rgba, edge_rgba = self._layers()
        with hold_canvas():
            if image:
                self.image_layer.clear()
                self.image_layer.put_image_data(image_rgba, 0, 0)
            self.hole_layer.clear()
            self.hole_layer.put_image_data(hole_rgba, 0, 0)
            self.edge_layer.clear()
            self.edge_layer.put_image_data(edge_rgba, 0, 0)
        if self.edit.result is None and not np.array_equal(self._shown_mask, self.edit.mask):
            self._shown_mask = self.edit.mask.copy()
            self.result_view.value = encode_image(_zoomed(to_uint8(self.edit.masked_image()), self.zoom), ".png")
        self._update_status()

    def status_text(self) -> str:
        e = self.edit
        stale = "" if e.prediction_is_current or not e.mask.any() else " | hole changed: 'Predicted edges' redraws G1's"
        return (f"edge pixels: {e.hole_edge_count} in the hole, {e.edge_count} in all | hole: {e.hole_ratio:.1%} of "
                f"the image | undo steps: {len(e.history)}{stale}")

    def _update_status(self) -> None:
        self.status.value = self.status_text()

    def show_result(self) -> None:
        r = self.edit.result
        if r is not None:
            self.result_view.value = encode_image(_zoomed(to_uint8(r.image), self.zoom), ".png")
            self.result_title.value = "the result (Inpaint again after editing)"

    # -- mouse -------------------------------------------------------------------------------------------
    def _to_image(self, x: float, y: float) -> tuple[float, float]:
        return (x + 0.5) / self.zoom - 0.5, (y + 0.5) / self.zoom - 0.5

    def _stroke(self, points, record: bool) -> None:
        tool = self.tool.value
        self.edit.apply(tool, points, int(self.brush.value), record=record)
        self.redraw(image=False)

    def on_mouse_down(self, x: float, y: float) -> None:
        """Start a stroke at canvas pixel (x, y): one undo step until the mouse is released."""
        p = self._to_image(x, y)
        self._last = p
        self._stroke([p], record=True)

    def on_mouse_move(self, x: float, y: float) -> None:
        """Continue the stroke (nothing happens while no button is down)."""
        if self._last is None:
            return
        p = self._to_image(x, y)
        self._stroke([self._last, p], record=False)
        self._last = p

    def on_mouse_up(self, x: float, y: float) -> None:
        """End the stroke at (x, y)."""
        if self._last is None:
            return
        p = self._to_image(x, y)
        if p != self._last:
            self._stroke([self._last, p], record=False)
        self._last = None

    def on_mouse_out(self, x: float, y: float) -> None:
        """Leaving the canvas ends the stroke."""
        self._last = None

    # -- buttons -----------------------------------------------------------------------------------------
    def undo(self) -> None:
        self.message.value = "undone" if self.edit.undo() else "nothing to undo"
        self.redraw(image=False)

    def reset_edges(self) -> None:
        self.edit.reset_edges(self.pipeline)
        self.message.value = "the hole's edges are G_edge's prediction again"
        self.redraw(image=False)

    def clear_edges(self) -> None:
        self.edit.clear_edges()
        self.message.value = "no edges in the hole"
        self.redraw(image=False)

    def inpaint(self):
        """Run the pipeline with the edited edges and show the result beside the input."""
        try:
            result = self.edit.inpaint(self.pipeline)
        except Exception as err:  # shown in the widget: a button callback's traceback would be lost
            self.message.value = f"inpainting failed: {type(err).__name__}: {err}"
            return None
        self.show_result()
        self.message.value = f"inpainted with {self.edit.hole_edge_count} edge pixels in the hole"
        return result

    def save(self, stem: str = "edit") -> EditFiles | None:
        """Write the photo, mask, edges (and the result, if any) to the ``save to`` folder."""
        try:
            files = self.edit.save(self.save_dir.value, stem)
        except (OSError, ValueError) as err:
            self.message.value = f"saving failed: {err}"
            return None
        self.message.value = f"saved {', '.join(p.name for p in files if p is not None)} to {files.image.parent}"
        return files

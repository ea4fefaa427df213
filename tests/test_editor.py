"""The edge editor (edgeconnect_lib.editor): array tools, undo, reset to G_edge's edges, files the command line
reads, the widget's mouse handlers driven without a browser, and that edited edges steer the inpainting."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgeconnect_lib.course_data import data_dir
from edgeconnect_lib.data import center_square
from edgeconnect_lib.editor import (
    EdgeEdit,
    brush_stroke,
    compose_edges,
    draw_edge,
    edge_line,
    erase_edge,
    erase_hole,
    known_edges,
    load_edges,
    paint_hole,
    predict_edges,
    save_edges,
)
from edgeconnect_lib.images import load_image
from edgeconnect_lib.masks import load_mask
from edgeconnect_lib.models import EdgeConnect

REPO = Path(__file__).resolve().parent.parent
CHECKPOINT = data_dir() / "checkpoints" / "edgeconnect.pt"
SIZE = 96


@pytest.fixture(scope="module")
def pipeline():
    return EdgeConnect.load(CHECKPOINT)


@pytest.fixture(scope="module")
def photo():
    # on 8-bit levels, as EdgeEdit keeps its image
    return np.round(center_square(load_image(data_dir() / "images" / "mate_ladybird.jpg"), SIZE) * 255) / 255


def _hole():
    mask = np.zeros((SIZE, SIZE), bool)
    mask[30:70, 25:75] = True
    return mask


# ---------------------------------------------------------------------------------------------------------
# array tools
# ---------------------------------------------------------------------------------------------------------
def test_brush_is_a_disc_of_the_given_size():
    one = brush_stroke((40, 40), [(20, 10)], 1)
    assert one.sum() == 1 and one[10, 20]  # (x, y) = (column, row)
    disc = brush_stroke((40, 40), [(20, 20)], 9)
    rows, cols = np.nonzero(disc)
    assert rows.min() == 16 and rows.max() == 24 and cols.min() == 16 and cols.max() == 24  # diameter 9
    assert not disc[16, 16] and disc[20, 16]  # round, not square
    yy, xx = np.mgrid[:40, :40]
    assert disc[(yy - 20) ** 2 + (xx - 20) ** 2 <= 9].all()
    stroke = brush_stroke((40, 40), [(5, 20), (35, 20)], 5)
    assert stroke[18:23, 5:36].all() and not stroke[15].any() and not stroke[25].any()
    assert brush_stroke((40, 40), [(-100, -100), (200, -100)], 3).sum() == 0  # off the image: nothing, no error
    with pytest.raises(ValueError, match="at least 1"):
        brush_stroke((40, 40), [(1, 1)], 0)
    with pytest.raises(ValueError, match="non-empty"):
        brush_stroke((40, 40), [], 3)


def test_paint_and_erase_hole():
    mask = paint_hole(np.zeros((32, 32), bool), [(8, 8), (24, 8)], 5)
    assert mask[8, 8:25].all() and mask.dtype == bool
    back = erase_hole(mask, [(16, 8)], 3)
    assert not back[8, 15:18].any() and back[8, 8] and back[8, 24]
    assert erase_hole(mask, [(8, 8), (24, 8)], 5).sum() == 0
    before = np.zeros((32, 32), bool)
    paint_hole(before, [(3, 3)], 3)
    assert not before.any(), "the input map is not modified"


def test_edge_lines_are_one_pixel_wide_and_8_connected():
    line = edge_line((50, 50), [(2, 3), (40, 20), (45, 45)])
    assert line[3, 2] and line[20, 40] and line[45, 45]
    assert line.sum() == 38 + 25 + 1  # Bresenham: one pixel per step of the longer axis, shared corner
    for r in range(4, 20):  # 1 px wide: at most one pixel per row on the first, flat segment
        assert line[r, :41].sum() <= 3
    assert edge_line((10, 10), [(4, 5)]).sum() == 1
    edges = draw_edge(np.zeros((50, 50), bool), [(0, 10), (49, 10)])
    assert edges[10].all() and edges.sum() == 50
    mask = np.zeros((50, 50), bool)
    mask[:, 20:30] = True
    inside = draw_edge(np.zeros((50, 50), bool), [(0, 10), (49, 10)], mask)
    assert inside.sum() == 10 and inside[10, 20:30].all()
    erased = erase_edge(edges, [(25, 10)], 5)
    assert erased.sum() == 45 and not erased[10, 23:28].any()


def test_compose_edges_keeps_canny_outside_the_hole_and_the_drawing_inside(photo):
    mask = _hole()
    known = known_edges(photo, mask)
    assert known.any() and not known[mask].any(), "Canny of the known region draws nothing in the hole"
    drawn = edge_line(mask.shape, [(0, 50), (95, 50)])
    edges = compose_edges(known, drawn, mask)
    assert np.array_equal(edges[~mask], known[~mask])
    assert np.array_equal(edges[mask], drawn[mask])


# ---------------------------------------------------------------------------------------------------------
# the editing state
# ---------------------------------------------------------------------------------------------------------
def test_edit_edges_only_inside_the_hole_and_undo(photo):
    edit = EdgeEdit(photo, _hole())
    assert edit.hole_edge_count == 0 and abs(edit.hole_ratio - 40 * 50 / SIZE**2) < 1e-9
    known_before = edit.edge_count
    edit.draw_edge([(0, 50), (95, 50)])  # crosses the hole: only its 50 hole pixels count
    assert edit.hole_edge_count == 50 and edit.edge_count == known_before + 50
    assert not edit.hole_edges[~edit.mask].any()
    edit.erase_edge([(50, 50)], 11)
    assert edit.hole_edge_count == 50 - 11
    edit.erase_hole([(30, 50), (40, 50)], 7)  # shrinking the hole drops the edges that were there
    assert not edit.mask[50, 30:41].any() and edit.hole_edge_count < 39
    assert not edit.hole_edges[~edit.mask].any()
    edit.paint_hole([(10, 10)], 5)
    assert edit.mask[10, 10] and not edit.hole_edges[8:13, 8:13].any(), "a new hole starts without edges"
    assert len(edit.history) == 4
    assert edit.undo() and not edit.mask[10, 10]
    assert edit.undo() and edit.mask[50, 35] and edit.hole_edge_count == 39
    assert edit.undo() and edit.hole_edge_count == 50
    assert edit.undo() and edit.hole_edge_count == 0
    assert not edit.undo(), "nothing left to undo"
    assert np.array_equal(edit.mask, _hole())


def test_one_stroke_is_one_undo_step(photo):
    edit = EdgeEdit(photo, _hole())
    edit.draw_edge([(30, 40)], record=True)
    for x in range(31, 70):
        edit.draw_edge([(x - 1, 40), (x, 40)], record=False)
    assert edit.hole_edge_count == 40 and len(edit.history) == 1
    edit.undo()
    assert edit.hole_edge_count == 0


def test_image_is_rounded_to_8_bits_and_inputs_are_checked(photo):
    edit = EdgeEdit(photo + 0.001, _hole())
    assert np.array_equal(edit.image, np.round(edit.image * 255) / 255)
    assert np.array_equal(EdgeEdit(photo).image, photo.astype(np.float32))
    with pytest.raises(ValueError, match="must match"):
        EdgeEdit(photo, np.zeros((10, 10), bool))
    with pytest.raises(ValueError, match="H x W x 3"):
        EdgeEdit(photo[..., 0])
    with pytest.raises(ValueError, match="choose one of"):
        edit.apply("spray", [(1, 1)])


def test_predicted_edges_are_the_pipelines_and_reset_restores_them(pipeline, photo):
    mask = _hole()
    predicted = predict_edges(pipeline, photo, mask)
    assert np.array_equal(predicted, pipeline.inpaint(photo, mask).edges > 0.5), \
        "the editor's G_edge edges are the ones EdgeConnect.inpaint uses (thresholded)"
    edit = EdgeEdit(photo, mask, sigma=pipeline.sigma)
    edges = edit.reset_edges(pipeline)
    assert np.array_equal(edges, predicted) and edit.prediction_is_current
    edit.draw_edge([(25, 60), (74, 40)])
    edit.erase_edge([(50, 50)], 21)
    assert not np.array_equal(edit.edges, predicted)
    edit.reset_edges(pipeline)
    assert np.array_equal(edit.edges, predicted)
    edit.paint_hole([(10, 10)], 5)
    assert not edit.prediction_is_current


def test_predicted_edges_equal_the_pipelines_at_a_padded_size(pipeline):
    """At a size that is not a multiple of 4 (padded by reflection), the editor's G_edge map is still exactly the
    one EdgeConnect.inpaint gives G_inpaint, thresholded: both go through pipeline.prepare."""
    image = np.round(load_image(data_dir() / "images" / "mate_ladybird.jpg")[:101, :77] * 255) / 255
    mask = np.zeros((101, 77), bool)
    mask[30:75, 20:60] = True
    predicted = predict_edges(pipeline, image, mask)
    assert predicted[mask].any() and predicted[~mask].any()
    assert np.array_equal(predicted, pipeline.inpaint(image, mask).edges > 0.5)


def test_two_edge_maps_give_two_different_fills(pipeline, photo):
    """The paper's user-guided editing: the same hole, two drawings, two results (different in the hole only)."""
    mask = _hole()
    a, b = EdgeEdit(photo, mask), EdgeEdit(photo, mask)
    a.clear_edges()
    for y in (40, 48, 56, 64):  # horizontal stripes across the hole
        b.draw_edge([(20, y), (80, y)])
    ra, rb = a.inpaint(pipeline).image, b.inpaint(pipeline).image
    diff = np.abs(ra - rb).max(axis=2)
    assert np.array_equal(ra[~mask], rb[~mask]), "known pixels are kept either way"
    assert diff[mask].mean() > 0.01, f"edited edges should change the fill (mean change {diff[mask].mean():.4f})"
    near_lines = np.zeros_like(mask)
    near_lines[38:67, 25:75] = True
    assert diff[mask & near_lines].mean() > 0.5 * diff[mask].mean()


# ---------------------------------------------------------------------------------------------------------
# files: what the command line reads
# ---------------------------------------------------------------------------------------------------------
def test_edge_file_round_trip(tmp_path):
    edges = edge_line((20, 30), [(0, 0), (29, 19)])
    path = save_edges(edges, tmp_path / "e.png")
    assert np.array_equal(load_edges(path), edges)
    with pytest.raises(ValueError, match=r"\.png"):
        save_edges(edges, tmp_path / "e.jpg")


def test_saved_edit_goes_through_the_command_line(pipeline, photo, tmp_path):
    edit = EdgeEdit(photo, _hole(), sigma=pipeline.sigma)
    edit.reset_edges(pipeline)
    edit.draw_edge([(25, 45), (74, 55)])
    edit.draw_edge([(25, 60), (74, 35)])
    expected = edit.inpaint(pipeline).image
    files = edit.save(tmp_path / "saved", "lady")
    assert [p.name for p in files] == ["lady.png", "lady_mask.png", "lady_edges.png", "lady_result.png"]
    assert np.array_equal(load_image(files.image), edit.image), "the photo PNG is exact (8-bit levels)"
    assert np.array_equal(load_mask(files.mask), edit.mask)
    assert np.array_equal(load_edges(files.edges), edit.edges)
    out = tmp_path / "cli.png"
    done = subprocess.run([sys.executable, "-m", "edgeconnect_lib", *EdgeEdit.cli_args(files, CHECKPOINT, out),
                           "--device", "cpu"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    from_cli = load_image(out)
    assert np.abs(from_cli - expected).max() <= 1.5 / 255, "the CLI with --edges redoes the edit"
    plain = pipeline.inpaint(edit.image, edit.mask).image  # G_edge's edges instead of the edited ones
    assert np.abs(plain - expected)[edit.mask].mean() > 2 / 255, "the CLI used the edited edges, not G_edge's"


# ---------------------------------------------------------------------------------------------------------
# the widget, driven without a browser
# ---------------------------------------------------------------------------------------------------------
def test_widget_mouse_handlers_and_buttons(pipeline, photo, tmp_path):
    pytest.importorskip("ipycanvas")
    from edgeconnect_lib.editor import EdgeEditor

    ed = EdgeEditor(pipeline, photo, _hole(), zoom=2, brush=5, save_dir=tmp_path / "out")
    assert ed.canvas.width == 2 * SIZE and ed.edit.prediction_is_current
    predicted = ed.edit.edges.copy()
    status0, view0 = ed.status.value, ed.result_view.value
    assert f"{ed.edit.hole_edge_count} in the hole" in status0 and "hole: 21.7%" in status0

    ed.tool.value = "draw_edge"  # a drag from image pixel (26, 50) to (73, 50): canvas x 2
    ed.on_mouse_down(52, 100)
    for x in range(60, 150, 8):
        ed.on_mouse_move(x, 100)
    ed.on_mouse_up(146, 100)
    assert ed.edit.hole_edges[50, 26:74].all() and len(ed.edit.history) == 1
    assert ed.status.value != status0
    ed.on_mouse_move(10, 10)  # no button down: nothing happens
    assert len(ed.edit.history) == 1

    ed.tool.value = "paint_hole"  # a new hole over the top-left corner, drawn by a message from the "browser"
    canvas = ed.canvas[2]
    for event, x, y in (("mouse_down", 10, 10), ("mouse_move", 30, 10), ("mouse_up", 30, 10)):
        canvas._handle_frontend_event(None, {"event": event, "x": x, "y": y}, [])
    assert ed.edit.mask[5, 5:16].all() and len(ed.edit.history) == 2
    assert ed.result_view.value != view0, "the input view shows the new hole"
    assert "hole changed" in ed.status.value

    ed.undo_button.click()
    assert not ed.edit.mask[5, 5] and len(ed.edit.history) == 1
    ed.inpaint_button.click()
    assert ed.edit.result is not None and "inpainted" in ed.message.value
    with_line = ed.result_view.value
    assert with_line != view0
    ed.reset_button.click()
    assert np.array_equal(ed.edit.edges, predicted)
    ed.inpaint_button.click()
    assert ed.result_view.value != with_line, "another edge map, another result shown"
    ed.save_button.click()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["edit.png", "edit_edges.png", "edit_mask.png",
                                                                     "edit_result.png"]
    assert "saved" in ed.message.value
    bundle = ed._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


# ---------------------------------------------------------------------------------------------------------
# lesson 10's exercise solutions
# ---------------------------------------------------------------------------------------------------------
def test_lesson_10_solutions(capsys):
    path = REPO / "notebooks" / "solutions" / "10_edge_editing_solutions.py"
    spec = importlib.util.spec_from_file_location("solutions_10", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    answers = module.main(size=128)
    assert answers["undo_restores"] is True
    assert answers["brush_change"] > 0.005
    assert answers["hole_only"] is True
    assert "exercise" in capsys.readouterr().out


def test_saving_is_atomic_a_failed_save_keeps_the_earlier_file(tmp_path, monkeypatch):
    from PIL import Image

    from edgeconnect_lib.editor import load_edges, save_edges, save_image

    edges = np.zeros((8, 8), bool)
    edges[2, :] = True
    path = save_edges(edges, tmp_path / "edges.png")
    np.testing.assert_array_equal(load_edges(path), edges)
    image_path = save_image(np.full((8, 8, 3), 0.5, np.float32), tmp_path / "image.png")
    before = path.read_bytes(), image_path.read_bytes()

    def broken_save(self, fp, *args, **kwargs):
        fp.write(b"\x89PNG half")  # a partial write, then the disk is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="No space left"):
        save_edges(~edges, path)
    with pytest.raises(OSError, match="No space left"):
        save_image(np.zeros((8, 8, 3), np.float32), image_path)
    assert (path.read_bytes(), image_path.read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["edges.png", "image.png"]  # no temporary file left


# ---------------------------------------------------------------------------------------------------------
# issue 20: saving arrays of any kind, and failures as one clear line
# ---------------------------------------------------------------------------------------------------------
def test_save_image_takes_uint8_levels_and_refuses_nan(tmp_path):
    """Case 10: a uint8 array is 8-bit levels (not a 99.5%-white picture); NaN is refused, not made black."""
    from PIL import Image

    from edgeconnect_lib.editor import save_image

    levels = (np.arange(8 * 8 * 3) % 256).astype(np.uint8).reshape(8, 8, 3)
    assert np.array_equal(np.asarray(Image.open(save_image(levels, tmp_path / "u8.png"))), levels)
    grey = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    assert Image.open(save_image(grey, tmp_path / "grey.png")).mode == "L"
    bad = np.full((8, 8, 3), 0.5, np.float32)
    bad[2, 3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        save_image(bad, tmp_path / "nan.png")
    with pytest.raises(ValueError, match=r"must be in \[0, 1\]"):
        save_image(levels.astype(np.float32), tmp_path / "f255.png")
    assert not (tmp_path / "nan.png").exists() and not (tmp_path / "f255.png").exists()


def test_edge_files_of_any_binary_level_are_read_as_edges(tmp_path):
    """Case 5 (editor): one meaning of "edge" with the command line: non-zero pixels of a binary grey file."""
    from PIL import Image

    edges = edge_line((20, 30), [(0, 0), (29, 19)])
    for level in (1, 100, 255):
        Image.fromarray(edges.astype(np.uint8) * level).save(tmp_path / f"e{level}.png")
        assert np.array_equal(load_edges(tmp_path / f"e{level}.png"), edges)
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((20, 30, 3)) * 255).astype(np.uint8)).save(tmp_path / "photo.png")
    with pytest.raises(ValueError, match="edge map file .* is a colour image"):
        load_edges(tmp_path / "photo.png")


def test_saving_to_a_folder_under_a_file_or_read_only_is_one_clear_line(photo, tmp_path, monkeypatch):
    """Case 14 (editor): an OSError whose message names the path and the cause, on one line."""
    import errno

    from edgeconnect_lib import fileio
    from edgeconnect_lib.editor import save_image

    image = np.full((8, 8, 3), 0.5, np.float32)
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(OSError) as info:
        save_image(image, tmp_path / "dir.png")
    assert str(info.value) == f"cannot save image: {tmp_path / 'dir.png'}: it is a folder, not a file: give a file name"
    (tmp_path / "file").write_text("x")
    with pytest.raises(OSError) as info:
        EdgeEdit(photo, _hole()).save(tmp_path / "file" / "sub", "lady")
    line = str(info.value)
    assert "\n" not in line and f"{tmp_path / 'file'} is a file, not a folder" in line and "[Errno" not in line
    ro = tmp_path / "ro.png"
    ro.write_bytes(b"old")
    ro.chmod(0o444)
    with pytest.raises(OSError, match="the file is read-only") as info:
        save_edges(np.zeros((8, 8), bool), ro)
    assert info.value.errno == errno.EACCES and "\n" not in str(info.value)
    assert ro.read_bytes() == b"old"

    def read_only_folder(*args, **kwargs):  # what mkstemp raises in a folder without write permission
        raise PermissionError(errno.EACCES, "Permission denied", kwargs.get("dir"))

    monkeypatch.setattr(fileio.tempfile, "mkstemp", read_only_folder)
    with pytest.raises(OSError) as info:
        save_image(image, tmp_path / "new.png")
    assert str(info.value) == (f"cannot save image: {tmp_path / 'new.png'}: Permission denied (no permission: check "
                               "the permissions of the file and its folder, or write elsewhere)")

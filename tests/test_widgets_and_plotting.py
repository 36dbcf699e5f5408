"""aeutils.widgets (driven without a browser) and aeutils.plotting (each plot returns a Figure)."""

import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from aeutils import plotting, widgets  # noqa: E402


class Linear:
    """A stand-in encoder/decoder: a fixed matrix, called like a Keras model."""

    def __init__(self, w):
        self.w = np.asarray(w, np.float32)

    def __call__(self, x):
        return np.clip(np.asarray(x) @ self.w, 0, 1) if self.w.shape[1] == 64 else np.asarray(x) @ self.w


@pytest.fixture
def coders():
    rng = np.random.default_rng(0)
    enc = rng.normal(size=(64, 2))
    return Linear(enc), Linear(np.linalg.pinv(enc))


def test_toy_toggle_moves_the_code(coders):
    toy = widgets.DigitToy(*coders)
    assert np.allclose(toy.code(), 0) and toy.reconstruction().shape == (8, 8)
    assert toy.toggle(3, 4) == 1.0
    z1 = toy.code()
    assert not np.allclose(z1, 0)
    assert toy.toggle(3, 4) == 0.0 and np.allclose(toy.code(), 0)
    with pytest.raises(ValueError):
        toy.set_image(np.full(64, 2.0))


def test_widget_buttons_drive_the_toy(coders):
    start = np.zeros(64)
    start[10] = 1.0
    app, toy = widgets.digit_toy_widget(*coders, np.zeros((5, 2)), np.arange(5), start_image=start)
    grid = app.children[0].children[0]
    buttons = grid.children
    assert len(buttons) == 64 and buttons[10].value is True
    before = toy.code().copy()
    buttons[20].value = True  # a click
    assert toy.grid.flat[20] == 1.0 and not np.allclose(toy.code(), before)
    app.reset(np.zeros(64))
    assert toy.grid.sum() == 0 and not any(b.value for b in buttons)
    buttons[5].value = True  # the buttons still drive the toy after a reset
    assert toy.grid.flat[5] == 1.0
    plt.close("all")


def test_latent_explorer_decodes_the_point_and_names_its_neighbours():
    rng = np.random.default_rng(1)
    codes = np.concatenate([rng.normal(-2, 0.3, (50, 2)), rng.normal(2, 0.3, (50, 2))])
    labels = np.repeat([0, 1], 50)
    w = rng.normal(size=(2, 784))
    explorer = widgets.LatentExplorer(lambda z: 1 / (1 + np.exp(-z @ w)), codes, labels, ["left", "right"], k=10)
    image = explorer.move_to(2.0, 2.0)
    assert image.shape == (28, 28) and 0 <= image.min() and image.max() <= 1
    expected = 1 / (1 + np.exp(-(np.array([2.0, 2.0]) @ w)))
    assert np.allclose(image.ravel(), expected, atol=1e-6)
    assert explorer.nearest_class() == ("right", 1.0)
    explorer.move_to(-2.0, -1.9)
    assert explorer.nearest_class()[0] == "left" and np.allclose(explorer.z, [-2.0, -1.9])
    with pytest.raises(ValueError):
        widgets.LatentExplorer(lambda z: z, codes, labels[:3])


@pytest.fixture(params=["ipympl", "no ipympl"])
def ipympl_present(request, monkeypatch):
    """Run a test with ipympl (a dependency) and as if it were missing (the Image fallback)."""
    if request.param == "no ipympl":
        monkeypatch.setitem(sys.modules, "ipympl.backend_nbagg", None)  # makes the import fail
    return request.param == "ipympl"


def _explorer(seed, n=40):
    rng = np.random.default_rng(seed)
    codes, labels = rng.normal(size=(n, 2)), rng.integers(0, 3, n)
    return widgets.latent_explorer_widget(Linear(rng.normal(size=(2, 784))), codes, labels)


def test_latent_explorer_widget_sliders_move_the_point(ipympl_present):
    open_before = plt.get_fignums()
    app, explorer = _explorer(2)
    _, controls, view = app.children
    z1, z2 = controls.children
    z1.value, z2.value = 1.5, -0.5  # two slider moves
    assert np.allclose(explorer.z, [1.5, -0.5])
    assert explorer.nearest_class()[0] in {0, 1, 2}
    calls = []
    move_to = explorer.move_to
    explorer.move_to = lambda a, b: calls.append((a, b)) or move_to(a, b)
    app.move(-1.0, 2.0)  # a click moves both coordinates with one decode
    assert calls == [(-1.0, 2.0)] and (z1.value, z2.value) == (-1.0, 2.0)
    z1.value = 0.5  # and the sliders still drive it afterwards
    assert np.allclose(explorer.z, [0.5, 2.0]) and len(calls) == 2
    # every redraw reuses one figure, and none is left open in pyplot (no pile-up under any backend)
    assert plt.get_fignums() == open_before and len(app.figure.axes) == 2
    star = app.figure.axes[0].lines[0]
    assert np.allclose(np.ravel(star.get_data()), [0.5, 2.0])
    if ipympl_present:
        assert view is app.figure.canvas and type(view).__module__.startswith("ipympl")
    else:  # the picture is a PNG in the app
        assert bytes(view.value).startswith(b"\x89PNG")


def test_a_click_on_the_plane_moves_the_point():
    from matplotlib.backend_bases import MouseEvent

    app, explorer = _explorer(4)
    canvas, plane = app.figure.canvas, app.figure.axes[0]
    x, y = plane.transData.transform((1.0, -2.0))  # where the point (1, -2) is drawn, in pixels
    canvas.callbacks.process("button_press_event", MouseEvent("button_press_event", canvas, x, y, button=1))
    assert np.allclose(explorer.z, [1.0, -2.0], atol=1e-3)
    x, y = app.figure.axes[1].transData.transform((14, 14))  # a click on the decoded image moves nothing
    canvas.callbacks.process("button_press_event", MouseEvent("button_press_event", canvas, x, y, button=1))
    assert np.allclose(explorer.z, [1.0, -2.0], atol=1e-3)
    assert "Click the plane" in app.note.value


def test_without_ipympl_the_app_says_how_to_click(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipympl.backend_nbagg", None)
    assert widgets.click_canvas(plt.Figure()) is None
    app, _ = _explorer(3, n=9)
    assert app.children[0] is app.note and "ipympl" in app.note.value and "restart" in app.note.value


def test_plots_return_figures(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    imgs = rng.random((4, 28, 28))
    figs = [
        plotting.image_rows({"original": imgs, "reconstruction": imgs[::-1]}),
        plotting.plot_history({"AE": {"loss": [3, 2, 1], "val_loss": [3, 2.5, 2]}}),
        plotting.plot_codes_2d({"AE": rng.normal(size=(50, 2))}, rng.integers(0, 10, 50), list("abcdefghij")),
        plotting.plot_metric_vs_size([2, 8], {"AE": [0.02, 0.01], "PCA": [0.04, 0.02]}),
    ]
    assert all(isinstance(f, plt.Figure) for f in figs)
    labels = [ax.get_ylabel() for ax in figs[0].axes[::4]]
    assert labels == ["original", "reconstruction"]
    monkeypatch.setenv("AEUTILS_GALLERY_DIR", str(tmp_path))
    plotting.save_for_gallery(figs[0], "nb01_demo")
    assert (tmp_path / "nb01_demo.png").is_file()
    with pytest.raises(ValueError):
        plotting.save_for_gallery(figs[0], "../escape")
    plt.close("all")


def test_image_grid_tiles_in_reading_order():
    images = np.zeros((9, 4, 4))
    images[2] = 1.0  # first row, last column
    fig = plotting.image_grid(images, coords=[-1.0, 0.0, 1.0], title="grid")
    tiles = fig.axes[0].images[0].get_array()
    assert tiles.shape == (12, 12) and tiles[:4, 8:].min() == 1 and tiles.sum() == 16
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["1.0", "0.0", "-1.0"]
    plt.close("all")


def test_the_click_canvas_leaves_pyplots_backend_as_it_was():
    """Importing ipympl switches pyplot's backend; click_canvas switches it back (later plots stay images)."""
    pytest.importorskip("ipympl")
    before = matplotlib.get_backend()
    for name in [m for m in sys.modules if m == "ipympl" or m.startswith("ipympl.")]:
        sys.modules.pop(name)  # the switch happens on the first import: make this one the first
    assert widgets.click_canvas(plt.Figure()) is not None
    assert matplotlib.get_backend() == before

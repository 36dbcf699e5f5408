"""Interactive views. The logic lives in plain classes that tests drive without a browser; the ipywidgets
layer only forwards clicks to them and redraws.

Notebook 01 teaches :class:`DigitToy` / :func:`digit_toy_widget`: toggle the pixels of an 8×8 digit and watch
its 2-d code move over the training codes and its reconstruction change.
"""

from __future__ import annotations

import numpy as np


def _numpy_call(model, x: np.ndarray) -> np.ndarray:
    """Run a Keras model (or any callable) on one batch and return NumPy: faster than ``predict`` for one row."""
    out = model(np.asarray(x, dtype=np.float32))
    return np.asarray(out)


class DigitToy:
    """The state of the 8×8 toy: a grid of pixels in [0, 1], its code and its reconstruction."""

    def __init__(self, encoder, decoder, image=None, side: int = 8):
        self.encoder, self.decoder, self.side = encoder, decoder, side
        self.grid = np.zeros((side, side), np.float32)
        if image is not None:
            self.set_image(image)

    def set_image(self, image) -> None:
        """Replace the grid with ``image`` (any shape with side² values in [0, 1])."""
        image = np.asarray(image, np.float32).reshape(self.side, self.side)
        if image.min() < 0 or image.max() > 1:
            raise ValueError("Pixel values must lie in [0, 1].")
        self.grid = image.copy()

    def toggle(self, row: int, col: int) -> float:
        """Switch pixel (row, col) off if it is more than half on, else fully on; return its new value."""
        self.grid[row, col] = 0.0 if self.grid[row, col] > 0.5 else 1.0
        return float(self.grid[row, col])

    def code(self) -> np.ndarray:
        """The encoder's code of the current grid, shape (code_size,)."""
        return _numpy_call(self.encoder, self.grid.reshape(1, -1))[0]

    def reconstruction(self) -> np.ndarray:
        """The decoder's reconstruction of the current grid's code, shape (side, side)."""
        return _numpy_call(self.decoder, self.code()[None, :])[0].reshape(self.side, self.side)


def digit_toy_widget(encoder, decoder, train_codes, train_labels, start_image=None):
    """An ipywidgets app over :class:`DigitToy`: a grid of 64 toggle buttons, the 2-d code over the training
    codes, and the reconstruction. Returns ``(app, toy)``; display ``app`` in the notebook."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    toy = DigitToy(encoder, decoder, start_image)
    out = w.Output()
    buttons = [
        w.ToggleButton(value=bool(toy.grid[r, c] > 0.5), layout=w.Layout(width="28px", height="28px"))
        for r in range(toy.side) for c in range(toy.side)
    ]

    def redraw(*_):
        z, rec = toy.code(), toy.reconstruction()
        with out:
            out.clear_output(wait=True)
            fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(9, 3), width_ratios=[1, 1, 1.6])
            ax1.imshow(toy.grid, cmap="gray", vmin=0, vmax=1), ax1.set_title("input")
            ax2.imshow(rec, cmap="gray", vmin=0, vmax=1), ax2.set_title("reconstruction")
            ax3.scatter(*np.asarray(train_codes)[:, :2].T, c=train_labels, cmap="tab10", s=4, alpha=0.5)
            ax3.plot(z[0], z[1], "r*", ms=16, mec="k"), ax3.set_title(f"code z = ({z[0]:.2f}, {z[1]:.2f})")
            for ax in (ax1, ax2):
                ax.set_xticks([]), ax.set_yticks([]), ax.grid(False)
            plt.show()

    def on_toggle(change, index):
        r, c = divmod(index, toy.side)
        if (toy.grid[r, c] > 0.5) != change["new"]:
            toy.toggle(r, c)
            redraw()

    for i, b in enumerate(buttons):
        b.observe(lambda ch, i=i: on_toggle(ch, i), names="value")

    def reset(image):
        toy.set_image(image)
        for i, b in enumerate(buttons):  # update the buttons without re-triggering a redraw per button
            b.unobserve_all("value")
            b.value = bool(toy.grid.flat[i] > 0.5)
            b.observe(lambda ch, i=i: on_toggle(ch, i), names="value")
        redraw()

    clear = w.Button(description="clear")
    clear.on_click(lambda _: reset(np.zeros((toy.side, toy.side))))
    grid = w.GridBox(buttons, layout=w.Layout(grid_template_columns=f"repeat({toy.side}, 30px)"))
    app = w.HBox([w.VBox([grid, clear]), out])
    app.reset = reset  # lets a notebook (or a test) load another digit
    redraw()
    return app, toy


class LatentExplorer:
    """The state of notebook 07's latent explorer: a point z on a 2-d latent plane, its decoded image, and the
    class most common among the training codes nearest to it. ``decoder`` maps a batch of points (n, 2) to pixel
    values in [0, 1] (for a VAE, ``lambda z: aeutils.vae.decode(vae, z)``)."""

    def __init__(self, decoder, codes, labels, class_names=None, k: int = 15, side: int = 28):
        self.decoder, self.side, self.k = decoder, side, k
        self.codes, self.labels = np.asarray(codes, np.float32)[:, :2], np.asarray(labels)
        if len(self.codes) != len(self.labels):
            raise ValueError(f"{len(self.codes)} codes but {len(self.labels)} labels.")
        self.class_names = list(class_names) if class_names is not None else None
        self.z = np.zeros(2, np.float32)

    def move_to(self, z1: float, z2: float) -> np.ndarray:
        """Put the point at (z1, z2) (a click or the sliders) and return its decoded image, shape (side, side)."""
        self.z = np.array([z1, z2], np.float32)
        return self.image()

    def image(self) -> np.ndarray:
        """The decoder's image at the current point, shape (side, side)."""
        return _numpy_call(self.decoder, self.z[None, :]).reshape(self.side, self.side)

    def nearest_class(self):
        """The most common class among the ``k`` training codes nearest to the point, and that share."""
        nearest = np.argsort(((self.codes - self.z) ** 2).sum(axis=1))[: self.k]
        values, counts = np.unique(self.labels[nearest], return_counts=True)
        label = values[np.argmax(counts)]
        name = self.class_names[label] if self.class_names is not None else label
        return name, counts.max() / len(nearest)


CLICK_NOTE = ("Move the sliders to move the point. Clicking the plane needs ipympl: "
              "<code>%pip install ipympl</code>, then restart the kernel.")


def click_canvas(fig):
    """ipympl's canvas widget showing ``fig``, whose clicks reach matplotlib's events; None where ipympl is missing.

    Made directly from the figure (as ipympl's own backend does): no ``%matplotlib widget`` is needed. Importing
    ipympl the first time switches pyplot to ipympl's backend; the backend in use before is restored at once (a switch
    closes pyplot's open figures, which in a notebook have already been shown). Notebook 07's latent explorer draws
    into it."""
    import matplotlib

    backend = matplotlib.get_backend()
    try:
        from ipympl.backend_nbagg import Canvas, FigureManager
    except ImportError:
        return None
    finally:  # importing ipympl switches pyplot to its own backend: every later plot would become a widget
        if matplotlib.get_backend() != backend:
            matplotlib.use(backend)
    canvas = Canvas(fig)
    FigureManager(canvas, 0)  # the widget's comm with the page, and its (hidden) toolbar
    canvas.header_visible = canvas.footer_visible = canvas.toolbar_visible = canvas.resizable = False
    return canvas


def latent_explorer_widget(decoder, codes, labels, class_names=None, limit: float = 3.0):
    """An ipywidgets app over :class:`LatentExplorer`: a row of two sliders (z1, z2) above the class scatter of the
    codes, the decoded image beside the scatter. Every redraw updates one figure in place. The figure is ipympl's
    canvas widget (:func:`click_canvas`; ipympl is a dependency of aeutils, and :func:`aeutils.notebook.setup`
    enables Colab's widget manager for it), so a click on the plane moves the point too; without ipympl the figure
    is a PNG in an ``ipywidgets.Image``, the sliders still work, and a line in the app says how to turn clicking on.
    Returns ``(app, explorer)``; display ``app``."""
    import io

    import ipywidgets as w

    explorer = LatentExplorer(decoder, codes, labels, class_names)
    sliders = [w.FloatSlider(0.0, min=-limit, max=limit, step=0.05, description=f"z{i + 1}",
                             continuous_update=False) for i in range(2)]
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.6, 3.1))  # outside pyplot: never shown or left open; 660 px wide fits a 1100 px window
    view = click_canvas(fig)
    clickable = view is not None
    if clickable:
        note = w.HTML("Click the plane, or move the sliders.")
    else:
        view, note = w.Image(format="png"), w.HTML(CLICK_NOTE)
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[1.4, 1])
    ax1.scatter(*explorer.codes[:3000].T, c=explorer.labels[:3000], cmap="tab10", s=3, alpha=0.4)
    (star,) = ax1.plot([0.0], [0.0], "r*", ms=16, mec="k")
    ax1.set(xlim=(-limit, limit), ylim=(-limit, limit), xlabel="z1", ylabel="z2")
    shown = ax2.imshow(np.zeros((explorer.side, explorer.side)), cmap="gray", vmin=0, vmax=1)
    ax2.set_xticks([]), ax2.set_yticks([])

    def redraw(*_):
        image = explorer.move_to(sliders[0].value, sliders[1].value)
        name, share = explorer.nearest_class()
        star.set_data([explorer.z[0]], [explorer.z[1]])
        shown.set_data(image)
        ax2.set_title(f"decoded at ({explorer.z[0]:.2f}, {explorer.z[1]:.2f})\nnear: {name} ({share:.0%})")
        if clickable:
            fig.canvas.draw_idle()
        else:
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=80)
            view.value = buffer.getvalue()

    def move(z1: float, z2: float) -> None:
        """Set both sliders and redraw once (setting them one by one would decode and draw twice)."""
        for s in sliders:
            s.unobserve(redraw, names="value")
        sliders[0].value, sliders[1].value = float(z1), float(z2)
        for s in sliders:
            s.observe(redraw, names="value")
        redraw()

    def on_click(event):
        if event.inaxes is ax1 and event.xdata is not None and event.ydata is not None:
            move(event.xdata, event.ydata)

    if clickable:
        fig.canvas.mpl_connect("button_press_event", on_click)
    for s in sliders:
        s.observe(redraw, names="value")
    for s in sliders:  # the sliders sit in a row above the figure and keep their width at any window size
        s.layout = w.Layout(width="300px", min_width="300px")
    app = w.VBox([note, w.HBox(sliders), view])
    app.move, app.figure, app.note = move, fig, note  # what a click does; the one figure every redraw updates
    redraw()
    return app, explorer

"""Exercises of notebook 02 (convolutional autoencoders): ``from aeutils.exercises.nb02 import q1, q2, q3``."""

from __future__ import annotations

import numpy as np

from aeutils.exercises import Exercise, call, check_whole_number


def _check_conv_params(answer) -> str | None:
    return check_whole_number(
        answer, 3 * 3 * 32 * 64 + 64,
        {3 * 3 * 64 + 64: "each filter spans all 32 input channels, not one: 3 × 3 × 32 weights per filter.",
         3 * 3 * 32 * 64: "you counted the weights; each of the 64 filters also has a bias."},
        "each of the 64 filters has 3 × 3 × 32 weights and one bias.",
    )


def _overlaps(kernel: int, stride: int, n_in: int) -> np.ndarray:
    counts = np.zeros((n_in - 1) * stride + kernel, dtype=int)
    for i in range(n_in):
        counts[i * stride: i * stride + kernel] += 1
    return counts


def _check_overlap_counts(fn) -> str | None:
    for kernel, stride, n_in in ((3, 2, 6), (4, 2, 6), (3, 1, 4), (5, 3, 3)):
        got, want = np.asarray(call(fn, kernel, stride, n_in)), _overlaps(kernel, stride, n_in)
        if got.shape != want.shape:
            return (f"for kernel={kernel}, stride={stride}, n_in={n_in} the output has {len(want)} positions "
                    f"((n_in - 1) * stride + kernel); you returned shape {got.shape}.")
        if not np.array_equal(got, want):
            return (f"for kernel={kernel}, stride={stride}, n_in={n_in} the counts should be {want.tolist()}, "
                    f"not {got.tolist()}.")
    return None


def _check_conv_encoder(fn) -> str | None:
    import keras

    model = call(fn, 5)
    if not isinstance(model, keras.Model):
        return f"make_conv_encoder must return a Keras model, not {type(model).__name__}."
    out = keras.ops.convert_to_numpy(model(np.zeros((2, 28, 28, 1), "float32")))
    if out.shape != (2, 5):
        return f"for latent_dim=5 and two 28×28×1 images the code should have shape (2, 5); got {out.shape}."
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    if len(convs) != 2 or any(tuple(c.strides) != (2, 2) for c in convs):
        return "use exactly two Conv2D layers with strides=2 (28 -> 14 -> 7)."
    if any(c.activation.__name__ != "relu" for c in convs):
        return "give both convolutions activation=\"relu\"."
    if tuple(convs[-1].output.shape[1:3]) != (7, 7):
        return f"the second convolution should output a 7×7 map; it gives {tuple(convs[-1].output.shape[1:3])}:"\
               " use padding=\"same\"."
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    if not dense or dense[-1].activation.__name__ != "linear":
        return "end with Flatten() and a Dense(latent_dim) code layer without activation."
    return None


def _check_conv_output_size(fn) -> str | None:
    cases = {(28, 2): 14, (14, 2): 7, (7, 2): 4, (28, 1): 28, (10, 3): 4}
    for (n, s), want in cases.items():
        got = call(fn, n, s)
        if got != want:
            hint = " Round up, not down: a half-covered edge still gets an output." if (n, s) == (7, 2) else ""
            return f"conv_output_size({n}, {s}) should be {want}, not {got}.{hint}"
    return None


q1 = Exercise(
    "q1", _check_conv_params,
    "A Conv2D filter is a (3, 3, input channels) block of weights; there is one filter per output channel, "
    "each with a bias.",
    "3 * 3 * 32 * 64 + 64  # = 18496. Check: keras.layers.Conv2D(64, 3) built on a 32-channel input, .count_params()",
)
q2 = Exercise(
    "q2", _check_overlap_counts,
    "Start from np.zeros((n_in - 1) * stride + kernel, dtype=int) and add 1 to the slice each input covers.",
    "def overlap_counts(kernel, stride, n_in):\n"
    "    counts = np.zeros((n_in - 1) * stride + kernel, dtype=int)\n"
    "    for i in range(n_in):\n"
    "        counts[i * stride : i * stride + kernel] += 1\n"
    "    return counts\n"
    "# kernel 3: [1 1 2 1 2 1 2 ...] uneven (a grid in 2-d); kernel 4: [1 1 2 2 2 ... 2 1 1] even inside.",
)
q3 = Exercise(
    "q3", _check_conv_encoder,
    "keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(32, 3, strides=2, padding='same',"
    " activation='relu'), layers.Conv2D(64, ...), layers.Flatten(), layers.Dense(latent_dim)])",
    "def make_conv_encoder(latent_dim):\n"
    "    import keras\n"
    "    from keras import layers\n\n"
    "    return keras.Sequential([\n"
    "        keras.Input((28, 28, 1)),\n"
    "        layers.Conv2D(32, 3, strides=2, padding=\"same\", activation=\"relu\"),  # 28 -> 14\n"
    "        layers.Conv2D(64, 3, strides=2, padding=\"same\", activation=\"relu\"),  # 14 -> 7\n"
    "        layers.Flatten(),\n"
    "        layers.Dense(latent_dim),  # the code: no activation\n"
    "    ])",
)
q4 = Exercise(
    "q4", _check_conv_output_size,
    "'same' padding pads just enough that every stride-th position gets an output: ceil(n / stride). "
    "In integers: -(-n // stride).",
    "def conv_output_size(n, stride):\n"
    "    return -(-n // stride)  # ceil(n / stride): 28 -> 14 -> 7 -> 4, and 4 -> 8 -> 16 -> 32 on the way back",
)

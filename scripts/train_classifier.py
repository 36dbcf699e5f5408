"""Train the small Fashion-MNIST classifier whose features :mod:`aeutils.scores` measures samples in.

    OMP_NUM_THREADS=1 python scripts/train_classifier.py --threads 1

Splits: the last ``--n-val`` images of a seeded, stratified shuffle of the *training* set are held out; the number
of epochs is chosen on them (the epoch of best validation accuracy, whose weights are kept); the test set is scored
once, after that choice. The model is saved without its optimizer state to ``aeutils/weights/fashion_classifier.keras``
and the file's SHA-256 is printed: copy it into ``aeutils.scores.CLASSIFIER_SHA256`` and the facts into
``aeutils/weights/README.md``. The file's hash differs from save to save (the archive stores the date it was saved);
the weights' own digest, printed too, is what repeats from run to run with the same seed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from aeutils.data import load_dataset  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "aeutils" / "weights" / "fashion_classifier.keras"


def build_classifier() -> keras.Model:
    """Conv 32 → pool → conv 64 → pool → dense 128 (the ``features`` layer) → softmax over the 10 classes."""
    inputs = keras.Input((28, 28, 1), name="image")
    h = keras.layers.Conv2D(32, 3, activation="relu", name="conv1")(inputs)
    h = keras.layers.MaxPooling2D(name="pool1")(h)
    h = keras.layers.Conv2D(64, 3, activation="relu", name="conv2")(h)
    h = keras.layers.MaxPooling2D(name="pool2")(h)
    h = keras.layers.Dropout(0.3, name="dropout1")(keras.layers.Flatten(name="flatten")(h))
    h = keras.layers.Dense(128, activation="relu", name="features")(h)
    h = keras.layers.Dropout(0.3, name="dropout2")(h)
    outputs = keras.layers.Dense(10, activation="softmax", name="probabilities")(h)
    return keras.Model(inputs, outputs, name="fashion_classifier")


def weights_digest(model: keras.Model) -> str:
    """SHA-256 of the weights' bytes: equal for equal weights, whatever the archive's date."""
    digest = hashlib.sha256()
    for w in model.get_weights():
        digest.update(np.ascontiguousarray(w, dtype=np.float32).tobytes())
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-epochs", type=int, default=12)
    parser.add_argument("--patience", type=int, default=3, help="stop after this many epochs without a better val")
    parser.add_argument("--n-val", type=int, default=6000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=0, help="intra- and inter-op threads (0: TensorFlow decides)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if args.threads or os.environ.get("AEUTILS_ONE_THREAD"):
        tf.config.threading.set_intra_op_parallelism_threads(args.threads or 1)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads or 1)
    keras.utils.set_random_seed(args.seed)
    tf.config.experimental.enable_op_determinism()

    data = load_dataset("fashion_mnist")
    x_train, x_val, y_train, y_val = train_test_split(
        data.x_train[..., None], data.y_train, test_size=args.n_val, random_state=args.seed, stratify=data.y_train)
    model = build_classifier()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    stop = keras.callbacks.EarlyStopping("val_accuracy", patience=args.patience, restore_best_weights=True)
    start = time.perf_counter()
    history = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=args.max_epochs,
                        batch_size=args.batch_size, callbacks=[stop], verbose=2)
    seconds = time.perf_counter() - start
    val_acc = history.history["val_accuracy"]
    best = int(np.argmax(val_acc))  # the epoch EarlyStopping restored (the first of equal bests)
    _, test_acc = model.evaluate(data.x_test[..., None], data.y_test, batch_size=1000, verbose=0)

    plain = build_classifier()  # the same graph without optimizer state: a third of the file
    plain.set_weights(model.get_weights())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    plain.save(args.out)
    sha = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"parameters {plain.count_params()} | epochs run {len(val_acc)}, kept epoch {best + 1} | "
          f"val accuracy {val_acc[best]:.4f} | test accuracy {test_acc:.4f} | training {seconds:.0f} s")
    print(f"TensorFlow {tf.__version__} | Keras {keras.__version__} | seed {args.seed}")
    print(f"weights digest {weights_digest(plain)}")
    print(f"{args.out} ({args.out.stat().st_size} bytes) SHA-256 {sha}")


if __name__ == "__main__":
    main()

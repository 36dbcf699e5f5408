"""Two workers on this machine under one ``tf.distribute.MultiWorkerMirroredStrategy``: the road beyond one machine.

    python scripts/two_workers.py            # starts two worker processes on localhost and compares their weights

Each worker is an ordinary Python process that learns its place in the cluster from the ``TF_CONFIG`` environment
variable (the addresses of every worker, and which one it is) and builds a small :class:`aeutils.vae.VAE` inside the
strategy's scope. Keras 3's ``fit`` failed across workers in this setup while reducing its logs, so each worker runs
the VAE's own ``train_step`` on its replica with ``strategy.run``, step by step, on its shard of every global batch.

Two things are measured. (1) One SGD step from the same weights on the first global batch, taken by the two workers
together, against the same step taken by this (single, undistributed) process: the relative gap shows that the
workers' step is the one-device step, which an unscaled loss would double. (2) A short training run with Adam: the
gradients are summed across the workers at every step (a collective all-reduce over gRPC) and the weights start
equal (broadcast), so both workers end with the same weights by construction, and the loss falls. The script prints
one JSON line and exits non-zero when a worker fails. On real machines the only change is the addresses in
``TF_CONFIG``. Run by ``tests/test_distribute.py`` and by the notebook ``A1_training_on_many_devices``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_ports(n: int) -> list[int]:
    """``n`` TCP ports that are free on localhost right now."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("localhost", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_config(ports: list[int], index: int) -> str:
    """The ``TF_CONFIG`` of worker ``index``: the whole cluster, and this process's task in it."""
    return json.dumps({"cluster": {"worker": [f"localhost:{p}" for p in ports]},
                       "task": {"type": "worker", "index": index}})


SGD_LR = 0.01


def build_vae(seed: int):
    """The small VAE both the workers and the single process build: 784 → 64 → 4 and back."""
    import keras

    from aeutils.vae import VAE

    inputs = keras.Input((784,))
    h = keras.layers.Dense(64, activation="gelu")(inputs)
    encoder = keras.Model(inputs, [keras.layers.Dense(4)(h), keras.layers.Dense(4)(h)])
    z = keras.Input((4,))
    decoder = keras.Model(z, keras.layers.Dense(784)(keras.layers.Dense(64, activation="gelu")(z)))
    return VAE(encoder, decoder, seed=seed)


def load_images(images: int):
    from aeutils.data import load_dataset

    return load_dataset("fashion_mnist").x_train[:images].reshape(images, -1)


def worker(out: Path, images: int, batch_size: int, epochs: int, seed: int) -> None:
    """One worker: TF_CONFIG is already set; the strategy must exist before TensorFlow runs any op."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    import keras
    import numpy as np

    keras.utils.set_random_seed(seed)  # the same initial weights on every worker (they are also broadcast)
    x = load_images(images)
    data = tf.data.Dataset.from_tensor_slices(x).batch(batch_size)  # the GLOBAL batch: each worker gets a shard
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    data = data.with_options(options)
    dist = strategy.experimental_distribute_dataset(data)
    # (1) One SGD step on the first global batch, from weights saved for the single-process comparison.
    with strategy.scope():
        probe = build_vae(seed)
        probe.compile(keras.optimizers.SGD(SGD_LR))
        probe.optimizer.build(probe.trainable_variables)
    start = probe.get_weights()
    tf.function(lambda batch: strategy.run(probe.train_step, args=(batch,)))(next(iter(dist)))
    np.savez(out.with_name(out.stem + "_step.npz"), *start, *[b - a for a, b in zip(start, probe.get_weights())])
    # (2) Training with Adam. Keras 3's fit() failed across workers in this setup, so each step runs the VAE's own
    # train_step on every replica with strategy.run: the same code fit() would call.
    with strategy.scope():  # variables created here are mirrored on every worker, kept equal by the all-reduce
        vae = build_vae(seed)
        vae.compile(keras.optimizers.Adam(1e-3))
        vae.optimizer.build(vae.trainable_variables)
    step = tf.function(lambda batch: strategy.run(vae.train_step, args=(batch,)))
    losses = []
    for _ in range(epochs):
        for tracker in vae.metrics:
            tracker.reset_state()
        for batch in dist:
            step(batch)
        losses.append(float(vae.loss_tracker.result()))  # read outside the replicas: totals summed over workers
    history = {"loss": losses}
    np.savez(out, *vae.get_weights())
    (out.with_suffix(".json")).write_text(json.dumps({
        "replicas": strategy.num_replicas_in_sync, "loss": history["loss"],
        "task": json.loads(os.environ["TF_CONFIG"])["task"]}))


def single_process_step_gap(saved: list, images: int, batch_size: int, seed: int) -> float:
    """max |Δw(workers) − Δw(this process)| / max |Δw(this process)| for one SGD step on the first global batch from
    the workers' starting weights (``saved``: those weights, then the workers' changes)."""
    import keras
    import numpy as np

    start, workers_step = saved[: len(saved) // 2], saved[len(saved) // 2:]
    vae = build_vae(seed)  # one device, no strategy: the same seed, hence the same noise
    vae.set_weights(start)
    vae.compile(keras.optimizers.SGD(SGD_LR))
    vae.fit(load_images(images)[:batch_size], batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
    single = [b - a for a, b in zip(start, vae.get_weights())]
    largest = max(float(np.abs(d).max()) for d in single)
    return max(float(np.abs(a - b).max()) for a, b in zip(workers_step, single)) / largest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--images", type=int, default=2048, help="Fashion-MNIST training images, all workers together")
    parser.add_argument("--batch-size", type=int, default=128, help="the global batch, over all workers")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=180, help="seconds before the workers are stopped")
    parser.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)  # set for the worker processes
    args = parser.parse_args(argv)
    if args.worker_out is not None:
        worker(args.worker_out, args.images, args.batch_size, args.epochs, args.seed)
        return 0

    start = time.perf_counter()
    ports = free_ports(args.workers)
    with tempfile.TemporaryDirectory(prefix="two-workers-") as tmp:
        outs = [Path(tmp) / f"worker{i}.npz" for i in range(args.workers)]
        procs = []
        for i, out in enumerate(outs):
            env = {**os.environ, "TF_CONFIG": tf_config(ports, i), "TF_CPP_MIN_LOG_LEVEL": "2"}
            cmd = [sys.executable, __file__, "--worker-out", str(out), "--images", str(args.images),
                   "--batch-size", str(args.batch_size), "--epochs", str(args.epochs), "--seed", str(args.seed)]
            procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        logs, failed = [], False
        deadline = time.monotonic() + args.timeout
        for proc in procs:
            try:
                logs.append(proc.communicate(timeout=max(1.0, deadline - time.monotonic()))[0])
            except subprocess.TimeoutExpired:
                for p in procs:
                    p.kill()
                logs.append(proc.communicate()[0] + f"\n(stopped after {args.timeout:.0f} s)")
            failed |= proc.returncode != 0
        if failed or not all(o.exists() for o in outs):
            for i, log in enumerate(logs):
                print(f"--- worker {i} ---\n{log[-3000:]}", file=sys.stderr)
            print(json.dumps({"ok": False, "seconds": round(time.perf_counter() - start, 1)}))
            return 1
        import numpy as np

        weights = [[w for _, w in sorted(np.load(o).items(), key=lambda kv: int(kv[0].split("_")[1]))] for o in outs]
        facts = [json.loads(o.with_suffix(".json").read_text()) for o in outs]
        arrays = np.load(outs[0].with_name(outs[0].stem + "_step.npz"))
        saved = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
    diff = max(float(np.abs(a - b).max()) for other in weights[1:] for a, b in zip(weights[0], other))
    step_gap = single_process_step_gap(saved, args.images, args.batch_size, args.seed)
    summary = {"ok": diff == 0.0, "workers": args.workers, "replicas": facts[0]["replicas"],
               "max_weight_diff": diff, "step_gap_relative": step_gap, "loss": facts[0]["loss"],
               "seconds": round(time.perf_counter() - start, 1)}
    print(json.dumps(summary))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""aeutils.vae under tf.distribute (appendix A1): a step on 2 replicas is the step on 1 device, the loss is scaled by
the global batch, every replica draws its own noise, metrics are global, and saving and loading work under a strategy.

Logical devices can only be configured before TensorFlow initialises its devices, which the rest of the suite has
long done in this process: the checks run in a fresh Python process (one for all of them) and report as JSON.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CHECKS = r"""
import json, os, sys, tempfile
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf
tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
import numpy as np
from keras import ops
from aeutils import vae as V

def coders(latent=3, hidden=16):
    x = keras.Input((784,))
    h = keras.layers.Dense(hidden, activation="relu")(x)
    encoder = keras.Model(x, [keras.layers.Dense(latent)(h), keras.layers.Dense(latent)(h)])
    z = keras.Input((latent,))
    return encoder, keras.Model(z, keras.layers.Dense(784)(keras.layers.Dense(hidden, activation="relu")(z)))

class Naive(V.VAE):  # the train_step one writes first: the mean over the replica's batch
    def train_step(self, data):
        with tf.GradientTape() as tape:
            rec, kl = self.terms(data, training=True)
            loss = ops.mean(rec + kl)
        self.optimizer.apply(tape.gradient(loss, self.trainable_weights), self.trainable_weights)
        return {"loss": loss}

one = tf.distribute.get_strategy()
two = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"], cross_device_ops=tf.distribute.ReductionToOneDevice())
x = np.random.default_rng(0).random((61, 784)).astype("float32")  # 61 = 40 + 21: an uneven last batch
w = np.random.default_rng(1).random(61).astype("float32")
keras.utils.set_random_seed(0)
start = V.VAE(*coders(), seed=0).get_weights()

def make(strategy, cls=V.VAE):
    with strategy.scope():
        m = cls(*coders(), seed=0)
        m.set_weights(start)
        m.compile(keras.optimizers.SGD(1e-3))
    return m

def step(strategy, cls=V.VAE):
    m = make(strategy, cls)
    m.fit(x[:40], batch_size=40, epochs=1, shuffle=False, verbose=0)
    return [b - a for a, b in zip(start, m.get_weights())]

def norm(d):
    return float(np.sqrt(sum(float((a.astype(np.float64) ** 2).sum()) for a in d)))

out = {"replicas": two.num_replicas_in_sync}
s1, s2 = step(one), step(two)
out["step_gap"] = max(float(np.abs(a - b).max()) for a, b in zip(s1, s2)) / max(float(np.abs(a).max()) for a in s1)
out["naive_ratio"] = norm(step(two, Naive)) / norm(step(one, Naive))
out["naive_one_device_is_vae"] = max(float(np.abs(a - b).max()) for a, b in zip(step(one, Naive), s1)) == 0.0

runs = {}
for name, strategy in (("one", one), ("two", two)):  # sample weights, uneven last batches, two epochs, evaluate
    m = make(strategy)
    h = m.fit(x, x, sample_weight=w, batch_size=40, epochs=2, shuffle=False, verbose=0).history
    runs[name] = (m, h, m.evaluate(x, batch_size=40, verbose=0, return_dict=True))
out["fit_weight_gap"] = max(float(np.abs(a - b).max())
                            for a, b in zip(runs["one"][0].get_weights(), runs["two"][0].get_weights()))
out["history_rel_gap"] = max(abs(b / a - 1) for k in runs["one"][1]
                             for a, b in zip(runs["one"][1][k], runs["two"][1][k]))
out["evaluate_rel_gap"] = max(abs(runs["two"][2][k] / runs["one"][2][k] - 1) for k in runs["one"][2])

ten = tf.data.Dataset.from_tensor_slices(np.arange(10.0, dtype="float32")).batch(10)
batch = next(iter(two.experimental_distribute_dataset(ten)))
mean = tf.function(lambda b: two.run(V.global_batch_mean, args=(b,)))
out["replica_losses"] = [float(v) for v in two.experimental_local_results(mean(batch))]

zeros = np.zeros((8, 3), "float32")
batch = next(iter(two.experimental_distribute_dataset(tf.data.Dataset.from_tensors(zeros))))
with two.scope():
    sampling = V.Sampling(seed=7)
eps = [np.asarray(e) for e in two.experimental_local_results(
    tf.function(lambda b: two.run(lambda z: sampling([z, z]), args=(b,)))(batch))]
out["noise_differs"] = not np.array_equal(eps[0], eps[1])
out["noise_is_one_device"] = bool(np.array_equal(np.concatenate(eps), np.asarray(V.Sampling(seed=7)([zeros, zeros]))))

folder = tempfile.mkdtemp()
trained = runs["two"][0]
trained.save(os.path.join(folder, "vae.keras"))
with two.scope():
    in_scope = keras.saving.load_model(os.path.join(folder, "vae.keras"))
outside = keras.saving.load_model(os.path.join(folder, "vae.keras"))
ref = trained.predict(x, verbose=0)
out["loaded_mirrored"] = type(in_scope.encoder.weights[0].value).__name__
out["loaded_same"] = [bool(np.array_equal(m.predict(x, verbose=0), ref)) for m in (in_scope, outside)]
in_scope.fit(x[:40], batch_size=40, epochs=1, verbose=0)  # and it trains on, under the strategy
print("RESULT " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def results():
    done = subprocess.run([sys.executable, "-c", CHECKS], capture_output=True, text=True, timeout=300, cwd=ROOT)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-4000:]
    return json.loads(lines[-1][len("RESULT "):])


def test_two_replicas(results):
    assert results["replicas"] == 2


def test_one_step_on_two_replicas_is_the_step_on_one_device(results):
    assert results["step_gap"] < 1e-4


def test_an_unscaled_mean_loss_doubles_the_step(results):
    assert abs(results["naive_ratio"] - 2.0) < 1e-3
    assert results["naive_one_device_is_vae"]  # on one device the naive loss and the VAE's are the same


def test_each_replica_contributes_its_sum_over_the_global_batch(results):
    # shards 0..4 and 5..9 of a global batch of 10: sums 10 and 35, each divided by 10
    assert results["replica_losses"] == pytest.approx([1.0, 3.5])


def test_fit_and_evaluate_with_uneven_batches_and_weights_match_one_device(results):
    assert results["fit_weight_gap"] < 1e-6
    assert results["history_rel_gap"] < 1e-5
    assert results["evaluate_rel_gap"] < 1e-5


def test_replicas_draw_their_own_rows_of_the_global_noise(results):
    assert results["noise_differs"] and results["noise_is_one_device"]


def test_save_and_load_under_the_strategy(results):
    assert results["loaded_mirrored"] == "MirroredVariable"
    assert results["loaded_same"] == [True, True]


def test_two_workers_on_localhost():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "two_workers.py"), "--images", "512", "--epochs", "1",
                           "--timeout", "150"], capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["ok"] and summary["replicas"] == 2 and summary["max_weight_diff"] == 0.0
    assert summary["step_gap_relative"] < 1e-4  # the workers' SGD step is the single-process step

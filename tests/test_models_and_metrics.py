"""aeutils.metrics (per-image MSE, PSNR, SSIM) and aeutils.models (the reused dense AE, timed fits)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aeutils import metrics, models


def test_per_image_metrics_on_known_images():
    rng = np.random.default_rng(0)
    clean = rng.random((4, 28, 28)).astype("float32")
    noisy = np.clip(clean + 0.1, 0, 1)
    mse = metrics.per_image_mse(clean, noisy)
    assert mse.shape == (4,) and np.allclose(mse, ((clean - noisy) ** 2).reshape(4, -1).mean(axis=1))
    assert np.allclose(metrics.per_image_psnr(clean, noisy), 10 * np.log10(1 / mse), rtol=1e-5)
    assert np.allclose(metrics.per_image_ssim(clean, clean), 1.0)
    assert np.all(metrics.per_image_ssim(clean, noisy) < 1.0)
    flat = metrics.per_image_psnr(clean.reshape(4, -1), noisy.reshape(4, -1, 1))  # any image layout
    assert np.allclose(flat, metrics.per_image_psnr(clean, noisy))


def test_dense_autoencoder_shapes_and_shortcut():
    enc, dec, ae = models.build_dense_autoencoder(8, hidden=(16,))
    x = np.random.default_rng(1).random((3, 784)).astype("float32")
    assert enc(x).shape == (3, 8) and dec(enc(x)).shape == (3, 784) and ae(x).shape == (3, 784)
    y = np.asarray(ae(x))
    assert y.min() >= 0 and y.max() <= 1  # the sigmoid output
    _, _, plain = models.build_dense_autoencoder(8, hidden=(16,), shortcut=False)
    assert ae.count_params() == plain.count_params() + 2 * 784 * 8  # two bias-free linear paths


def test_compile_for_and_timed_fit():
    _, _, ae = models.build_dense_autoencoder(4, hidden=(8,))
    models.compile_for(ae, epochs=2, n_train=300, batch_size=100, lr=1e-2)
    schedule = ae.optimizer.get_config()["learning_rate"]
    assert schedule["class_name"] == "CosineDecay" and schedule["config"]["decay_steps"] == 6  # 2 epochs x 3 steps
    x = np.random.default_rng(2).random((300, 784)).astype("float32")
    history, seconds = models.fit_timed(ae, x, x, epochs=2, batch_size=100)
    assert len(history.history["loss"]) == 2 and seconds > 0


class FakeClock:
    """A stand-in for the ``time`` module whose ``perf_counter`` returns the given readings in turn."""

    def __init__(self, *readings):
        self.readings = iter(readings)

    def perf_counter(self):
        return next(self.readings)


def test_timings_are_computed_from_the_clock(monkeypatch):
    _, _, ae = models.build_dense_autoencoder(4, hidden=(8,))
    models.compile_for(ae, epochs=2, n_train=100, batch_size=50, lr=1e-2)
    x = np.random.default_rng(3).random((100, 784)).astype("float32")
    monkeypatch.setattr(models, "time", FakeClock(10.0, 16.0))
    assert models.fit_timed(ae, x, x, epochs=2, batch_size=50)[1] == 3.0  # 6 s over 2 epochs
    monkeypatch.setattr(models, "time", FakeClock(0.0, 9.0, 20.0, 22.0))  # epoch 1: 9 s (tracing), epoch 2: 2 s
    assert models.seconds_per_epoch(ae, x, n_epoch=1000, batch_size=50) == 20.0  # the second, scaled to 1000


def test_ssim_uses_wang_et_al_settings():
    from skimage.metrics import structural_similarity

    rng = np.random.default_rng(0)
    a, b = rng.random((2, 28, 28)), rng.random((2, 28, 28))
    wang = [structural_similarity(x, y, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
            for x, y in zip(a, b)]
    assert np.allclose(metrics.per_image_ssim(a, b), wang)
    assert not np.allclose(metrics.per_image_ssim(a, b), [structural_similarity(x, y, data_range=1.0)
                                                           for x, y in zip(a, b)])


@pytest.mark.parametrize("fn", [metrics.per_image_mse, metrics.per_image_psnr, metrics.per_image_ssim])
def test_mismatched_inputs_fail_loudly(fn):
    x = np.random.default_rng(0).random((5, 28, 28))
    with pytest.raises(ValueError, match="same number"):
        fn(x[:3], x)  # used to return 3 values
    with pytest.raises(ValueError, match="pixels"):
        fn(x, x[:, :14])
    bad = x.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        fn(x, bad)


@pytest.mark.parametrize("fn", [metrics.per_image_psnr, metrics.per_image_ssim])
def test_a_0_to_255_scale_fails_loudly(fn):
    x = np.random.default_rng(0).random((2, 28, 28))
    with pytest.raises(ValueError, match="divide by 255"):
        fn(255 * x, 255 * x)
    with pytest.raises(ValueError, match="0-255"):
        fn(x, 255 * x)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 4), side=st.integers(11, 16), seed=st.integers(0, 10_000))
def test_psnr_is_the_log_of_each_images_mse(n, side, seed):
    rng = np.random.default_rng(seed)
    x, x_hat = rng.random((n, side, side)), rng.random((n, side * side))  # any layout with the same pixels
    mse = metrics.per_image_mse(x, x_hat)
    assert mse.shape == (n,) and np.all(mse >= 0)
    assert np.allclose(metrics.per_image_psnr(x, x_hat), 10 * np.log10(1 / mse))
    ssim = metrics.per_image_ssim(x, x_hat.reshape(n, side, side, 1))
    assert ssim.shape == (n,) and np.all(ssim <= 1)


def test_epoch_lines_print_one_line_per_epoch_only_when_active(capsys):
    from aeutils import models

    for active, expected in ((True, ["VAE epoch 1: loss 2.5, kl 0.125", "VAE epoch 2: loss 2, kl 0.25"]), (False, [])):
        callback = models.epoch_lines("VAE", active)
        callback.on_epoch_end(0, {"loss": 2.5, "kl": 0.125})
        callback.on_epoch_end(1, {"loss": 2.0, "kl": 0.25})
        assert capsys.readouterr().out.splitlines() == expected

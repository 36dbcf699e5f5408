"""aeutils.diffusion (notebook 10): the schedules, the closed-form forward process, the denoiser and the samplers."""

import subprocess
import sys

import keras
import numpy as np
import pytest

from aeutils import diffusion as D


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_schedule_properties(kind):
    s = D.make_schedule(kind, 1000)
    assert s.steps == 1000 and np.all(s.betas > 0) and np.all(s.betas < 1)
    assert np.all(np.diff(s.alpha_bars) < 0)  # ᾱ falls at every step
    assert s.alpha_bars[0] > 0.99 and s.alpha_bars[-1] < 1e-3  # almost clean at the start, almost noise at the end
    assert np.allclose(s.alpha_bars, np.cumprod(1 - s.betas))


def test_linear_schedule_is_hos_and_unknown_kind_fails():
    s = D.make_schedule("linear", 1000)
    assert np.isclose(s.betas[0], 1e-4) and np.isclose(s.betas[-1], 0.02)
    with pytest.raises(ValueError, match="linear"):
        D.make_schedule("quadratic")


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_closed_form_marginal_matches_the_iterated_chain(kind):
    s, t = D.make_schedule(kind, 200), 120
    z0 = np.tile(np.array([[2.0, -1.0, 0.5]]), (20000, 1))
    iterated = D.forward_iterate(z0, s.betas, t + 1, seed=3)
    eps = np.random.default_rng(4).standard_normal(z0.shape)
    closed = keras.ops.convert_to_numpy(D.q_sample(z0.astype("float32"), np.full(len(z0), t), eps, s.alpha_bars))
    ab = s.alpha_bars[t]
    for z in (iterated, closed):
        assert np.allclose(z.mean(0), np.sqrt(ab) * z0[0], atol=0.03)
        assert np.allclose(z.var(0), 1 - ab, atol=0.03)


def _oracle(z0, schedule):
    """The perfect noise predictor for a known z0: ε = (z_t − √ᾱ_t z0) / √(1 − ᾱ_t)."""
    ab = schedule.alpha_bars
    return lambda z, t: (z - np.sqrt(ab[t]) * z0) / np.sqrt(1 - ab[t])


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_perfect_noise_predictor_recovers_z0(kind):
    s = D.make_schedule(kind, 100)
    z0 = np.random.default_rng(0).standard_normal((8, 4))
    for steps in (5, 100):
        assert np.allclose(D.ddim_sample(_oracle(z0, s), s, 8, 4, steps=steps, seed=1), z0, atol=1e-4)
    assert np.allclose(D.ddpm_sample(_oracle(z0, s), s, 8, 4, seed=1), z0, atol=1e-3)


def test_ddim_eta0_is_deterministic_and_eta1_is_not():
    s = D.make_schedule("cosine", 50)
    eps = lambda z, t: 0.5 * z  # any fixed function will do  # noqa: E731
    z_start = np.random.default_rng(0).standard_normal((6, 3))
    a = D.ddim_sample(eps, s, 6, 3, steps=10, seed=1, z_start=z_start)
    b = D.ddim_sample(eps, s, 6, 3, steps=10, seed=2, z_start=z_start)
    c = D.ddim_sample(eps, s, 6, 3, steps=10, eta=1.0, seed=2, z_start=z_start)
    assert np.array_equal(a, b) and not np.allclose(a, c)


def test_ddim_steps_end_at_the_noisiest_or_at_last():
    chosen = D.ddim_steps(1000, 10)
    assert len(chosen) == 10 and chosen[0] == 0 and chosen[-1] == 999
    assert D.ddim_steps(1000, 10, last=978)[-1] == 978


def _gaussian_eps(schedule, noise, seed=0):
    """The exact noise predictor for codes z_0 ~ N(0, I), E[ε | z_t] = √(1 − ᾱ_t) z_t, plus N(0, noise²) errors."""
    rng, ab = np.random.default_rng(seed), schedule.alpha_bars
    return lambda z, t: np.sqrt(1 - ab[t]) * z + noise * rng.standard_normal(z.shape)


def test_short_ddim_does_not_inflate_the_spread_of_gaussian_codes():
    """Notebook 10's bug, as a toy: with ε off by 0.01, a chain that starts at ᾱ_T ≈ 2e-9 turns ẑ_0 into corners of
    the clip box and DDIM-10 spread the codes to a covariance trace of ~20 (data: 16). Started where ᾱ ≥ 1e-3, it
    must not exceed the data's spread (deterministic DDIM-10 shrinks it a little), and DDPM must keep it."""
    s, n, dim = D.make_schedule("cosine", 1000), 4000, 16
    spread = lambda z: np.trace(np.cov(z.T))  # noqa: E731
    clipped = []
    z = D.ddim_sample(_gaussian_eps(s, 0.01), s, n, dim, steps=10, seed=1, clip=4.5, clipped=clipped)
    assert 0.6 * dim < spread(z) < 1.05 * dim and len(clipped) == 10 and max(clipped) < 1e-3
    naive = D.ddim_sample(_gaussian_eps(s, 0.01), s, n, dim, steps=10, seed=1, clip=4.5, min_alpha_bar=0.0)
    assert spread(naive) > 1.15 * dim  # the bug the default avoids
    ddpm_clipped = []
    z = D.ddpm_sample(_gaussian_eps(s, 0.01), s, n, dim, seed=1, clip=4.5, clipped=ddpm_clipped)
    assert abs(spread(z) / dim - 1) < 0.1
    # DDPM's step T sees ẑ_0 = 0.01-errors × 1/√ᾱ_T: nearly every coordinate is clipped there, and rarely after
    assert len(ddpm_clipped) == 1000 and ddpm_clipped[0] > 0.9 and max(ddpm_clipped[5:]) < 1e-3


def test_ddim_recomputes_eps_from_the_clipped_z0():
    s = D.make_schedule("cosine", 50)
    eps = lambda z, t: 3.0 * np.ones_like(z)  # noqa: E731
    z_start = np.zeros((4, 2))
    clipped = []
    out = D.ddim_sample(eps, s, 4, 2, steps=2, z_start=z_start, clip=0.1, clipped=clipped)
    assert np.all(np.abs(out) <= 0.1 + 1e-6) and clipped[0] == 1.0
    # one hand-made step: ẑ_0 clipped to −0.1, ε recomputed from it, then the step to the last index
    ab = s.alpha_bars
    t0, t1 = D.ddim_steps(50, 2, last=int(np.nonzero(ab >= 1e-3)[0].max()))[::-1]
    z0 = np.full((4, 2), -0.1)
    e = (z_start - np.sqrt(ab[t0]) * z0) / np.sqrt(1 - ab[t0])
    z1 = np.sqrt(ab[t1]) * z0 + np.sqrt(1 - ab[t1]) * e
    assert np.allclose(D.ddim_sample(eps, s, 4, 2, steps=2, z_start=z_start, clip=0.1),
                       np.clip((z1 - np.sqrt(1 - ab[t1]) * 3.0) / np.sqrt(ab[t1]), -0.1, 0.1), atol=1e-6)


def test_timestep_embedding_shape_and_range():
    e = keras.ops.convert_to_numpy(D.timestep_embedding(np.array([0, 5, 999]), 16))
    assert e.shape == (3, 16) and np.abs(e).max() <= 1 and np.allclose(e[0, :8], 1)


def _trained(tmp_path=None):
    keras.utils.set_random_seed(0)
    model = D.Denoiser(4, width=32, blocks=1, embed_dim=8, steps=50, seed=0)
    z0 = np.random.default_rng(0).standard_normal((512, 4)).astype("float32") * 0.3 + 1.0
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(z0, epochs=6, batch_size=64, verbose=0, validation_data=(z0[:128],))
    return model, z0, history


def test_denoiser_trains_and_evaluates():
    model, z0, history = _trained()
    loss = history.history["loss"]
    assert loss[-1] < loss[0] and "val_loss" in history.history
    assert np.isfinite(model.evaluate(z0, verbose=0))
    out = D.ddim_sample(D.noise_predictor(model), model.schedule, 10, 4, steps=5)
    assert out.shape == (10, 4) and np.isfinite(out).all()


def test_denoiser_round_trip_in_a_fresh_process(tmp_path):
    model, z0, _ = _trained()
    model.save(tmp_path / "d.keras")
    t = np.arange(16) % 50
    np.save(tmp_path / "z.npy", z0[:16])
    np.save(tmp_path / "t.npy", t)
    script = ("import keras, numpy as np\nimport aeutils.diffusion\n"
              "m = keras.saving.load_model('d.keras')\n"
              "np.save('y.npy', keras.ops.convert_to_numpy(m([np.load('z.npy'), np.load('t.npy')])))\n"
              "print(m.schedule_kind, m.steps)")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "cosine 50" in done.stdout
    assert np.allclose(np.load(tmp_path / "y.npy"), keras.ops.convert_to_numpy(model([z0[:16], t])), atol=1e-6)


def test_ddpm_through_z0_is_hos_epsilon_form_when_nothing_is_clipped():
    s = D.make_schedule("linear", 30)
    eps = lambda z, t: np.tanh(z) * (t + 1) / 30  # noqa: E731
    rng = np.random.default_rng(5)
    z = rng.standard_normal((7, 3))
    b, a, ab = s.betas, s.alphas, s.alpha_bars
    for t in range(29, -1, -1):  # Ho et al., Algorithm 2, with σ_t² = β̃_t
        z = (z - b[t] / np.sqrt(1 - ab[t]) * eps(z, t)) / np.sqrt(a[t])
        if t > 0:
            z += np.sqrt(b[t] * (1 - ab[t - 1]) / (1 - ab[t])) * rng.standard_normal(z.shape)
    assert np.allclose(D.ddpm_sample(eps, s, 7, 3, seed=5), z, atol=1e-5)

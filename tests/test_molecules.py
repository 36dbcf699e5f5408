"""aeutils.molecules and aeutils.chem (notebook 11): tokenisers, vocabulary, metrics, the sequence VAE, its
sampler and its saving."""

import keras
import numpy as np
import pytest

from aeutils import chem, data, molecules
from aeutils.vae import Sampling

SMILES = ["CC(C)Cc1ccc(C(C)C(=O)O)cc1", "CN1C(=O)CN=C(c2ccccc2)c2cc(Cl)ccc21", "Brc1ccc[nH]1", "C[C@@H](O)c1ccccc1"]


def test_smiles_tokens_keep_two_letter_and_bracket_atoms():
    assert molecules.smiles_tokens("ClCc1ccc[nH]1") == ["Cl", "C", "c", "1", "c", "c", "c", "[nH]", "1"]
    assert molecules.smiles_tokens("C%12CC%12Br") == ["C", "%12", "C", "C", "%12", "Br"]
    with pytest.raises(ValueError, match="does not know"):
        molecules.smiles_tokens("CC&C")


@pytest.mark.parametrize("rep", ["smiles", "selfies"])
def test_tokens_round_trip_to_the_same_molecule(rep):
    for s in SMILES:
        back = molecules.tokens_to_smiles(molecules.TOKENISERS[rep](s), rep)
        assert chem.canonical(back) == chem.canonical(s)


def test_vocab_encode_decode():
    seqs = [molecules.smiles_tokens(s) for s in SMILES]
    vocab = molecules.Vocab.from_sequences(seqs)
    assert vocab.itos[:3] == ["<pad>", "<bos>", "<eos>"]
    rows = vocab.encode(seqs, 40)
    assert rows.shape == (4, 42) and (rows[:, 0] == molecules.BOS).all()
    assert vocab.decode(rows) == seqs
    assert not vocab.fits(["Xx"], 40) and not vocab.fits(seqs[0], 3)
    with pytest.raises(ValueError, match="longer"):
        vocab.encode(seqs, 5)


def test_generation_metrics_by_hand():
    training = {chem.canonical("CCO")}
    m = chem.generation_metrics(["OCC", "CCO", "CCN", "C1CC", "c1ccccc1"], training)  # 'C1CC' is invalid
    assert m["validity"] == pytest.approx(4 / 5)
    assert m["uniqueness"] == pytest.approx(3 / 4)  # OCC and CCO are one molecule
    assert m["novelty"] == pytest.approx(2 / 3)
    assert 0 < m["internal_diversity"] <= 1
    assert chem.internal_diversity(["CCO", "OCC"]) == 0.0  # one molecule: no pair
    assert chem.generation_metrics([None and "", "C1CC"], training)["validity"] == 0


def test_properties_and_similarity():
    props = chem.properties(SMILES[:2])
    assert {"QED", "logP", "MW"} <= set(props) and props["MW"][0] == pytest.approx(206.28, abs=0.05)
    assert chem.tanimoto_to(SMILES[0], SMILES[:1])[0] == pytest.approx(1.0)
    assert chem.wasserstein([0.0, 1.0], [0.0, 1.0]) == 0.0


def _tiny_vae(free_bits=0.0, teacher_forcing=True):
    seqs = [molecules.smiles_tokens(s) for s in SMILES]
    vocab = molecules.Vocab.from_sequences(seqs)
    rows = vocab.encode(seqs, 40)
    keras.utils.set_random_seed(0)
    encoder = molecules.conv_encoder(len(vocab), 41, 4, hidden=16)
    vae = molecules.SequenceVAE(encoder, molecules.GRUDecoder(len(vocab), 16, 8, teacher_forcing),
                                  free_bits=free_bits, seed=0, tokens=vocab.itos)
    vae.compile(optimizer=keras.optimizers.Adam(1e-2))
    return vae, vocab, rows


@pytest.mark.parametrize("teacher_forcing", [True, False])
def test_sequence_vae_trains_and_reuses_the_series_sampling_layer(teacher_forcing):
    vae, vocab, rows = _tiny_vae(teacher_forcing=teacher_forcing)
    assert isinstance(vae.sampling, Sampling)
    history = vae.fit(rows, epochs=8, batch_size=4, verbose=0, callbacks=[molecules.KLAnnealing(2)])
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert set(history.history) == {"loss", "reconstruction", "kl", "token_accuracy"}
    assert vae.beta == 1.0
    assert vae.predict(rows, verbose=0).shape == (4, 41, len(vocab))


def test_kl_annealing_is_zero_for_the_warm_up_epoch_then_full():
    vae, _, rows = _tiny_vae()
    betas = []
    record = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: betas.append(float(vae.beta)))
    vae.fit(rows, epochs=3, batch_size=4, verbose=0, callbacks=[molecules.KLAnnealing(1), record])
    assert betas == [0.0, 1.0, 1.0]  # β = 0 for all of the first epoch (a plain autoencoder), then 1


def test_free_bits_floor_the_charged_kl_not_the_reported_one():
    vae, _, rows = _tiny_vae(free_bits=2.0)
    _, kl, _, charged = vae.terms(rows)
    assert float(charged) >= 2.0 * 4 - 1e-5
    assert np.all(np.asarray(kl) >= 0)


def test_code_only_decoder_ignores_the_tokens():
    vae, vocab, rows = _tiny_vae(teacher_forcing=False)
    z = np.random.default_rng(0).normal(size=(4, 4)).astype("float32")
    a, _ = vae.decoder(z, rows[:, :-1])
    b, _ = vae.decoder(z, np.zeros_like(rows[:, :-1]))
    np.testing.assert_allclose(np.asarray(a), np.asarray(b))
    assert vae.decoder.embed is None


@pytest.mark.parametrize("teacher_forcing", [True, False])
def test_generate_is_batched_deterministic_when_greedy_and_ends_with_padding(teacher_forcing):
    vae, vocab, _ = _tiny_vae(teacher_forcing=teacher_forcing)
    z = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
    a, b = molecules.generate(vae.decoder, z, 10), molecules.generate(vae.decoder, z, 10)
    assert a.shape[0] == 6 and a.shape[1] <= 11 and np.array_equal(a, b)
    s1 = molecules.generate(vae.decoder, z, 10, temperature=1.0, seed=3)
    assert np.array_equal(s1, molecules.generate(vae.decoder, z, 10, temperature=1.0, seed=3))
    assert not np.isin(s1, [molecules.BOS]).any()  # <bos> is never generated
    assert not (s1[:, 0] == molecules.EOS).any() and not (a[:, 0] == molecules.EOS).any()  # no empty molecule
    for row in s1:  # after <eos> only padding
        ends = np.flatnonzero(row == molecules.EOS)
        if len(ends):
            assert (row[ends[0] + 1:] == molecules.PAD).all()


@pytest.mark.parametrize("teacher_forcing", [True, False])
def test_sequence_vae_saves_and_loads(tmp_path, teacher_forcing):
    vae, _, rows = _tiny_vae(free_bits=0.5, teacher_forcing=teacher_forcing)
    vae.fit(rows, epochs=1, batch_size=4, verbose=0)
    path = tmp_path / "mol.keras"
    vae.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, molecules.SequenceVAE) and loaded.free_bits == 0.5
    assert loaded.decoder.teacher_forcing == teacher_forcing
    assert loaded.vocab.itos == vae.vocab.itos and loaded.max_len == 40  # the vocabulary travels with the model
    np.testing.assert_allclose(loaded.predict(rows, verbose=0), vae.predict(rows, verbose=0), atol=1e-5)


def test_rows_encode_and_decode_smiles_keep_only_what_fits():
    vae, vocab, rows = _tiny_vae()
    smiles = [SMILES[0], "CC[Si](C)C", SMILES[2], "C" * 41]  # an unknown token; a molecule too long
    got, kept = molecules.rows_of(vae, smiles, "smiles")
    assert kept == [0, 2] and (got == rows[[0, 2]]).all()
    z, kept = molecules.encode_smiles(vae, smiles, "smiles")
    assert z.shape == (2, 4) and kept == [0, 2]
    np.testing.assert_allclose(z, keras.ops.convert_to_numpy(vae.posterior(rows[[0, 2]])[0]), atol=1e-6)
    decoded = molecules.decode_smiles(vae, z, "smiles")
    assert len(decoded) == 2 and all(isinstance(s, str) for s in decoded)
    assert molecules.encode_smiles(vae, ["CC[Si](C)C"], "smiles")[0].shape == (0, 4)
    with pytest.raises(ValueError, match="without tokens"):
        _ = molecules.SequenceVAE(vae.encoder, vae.decoder).vocab


def test_load_pretrained_checks_the_file(monkeypatch):
    with pytest.raises(ValueError, match="representation"):
        molecules.load_pretrained("inchi")
    monkeypatch.setitem(molecules.PRETRAINED_SHA256, "selfies", "0" * 64)
    with pytest.raises(data.WeightsError, match="does not match its checksum"):
        molecules.load_pretrained("selfies")


@pytest.mark.parametrize("rep", ["smiles", "selfies"])
def test_shipped_models_load_and_carry_their_vocabulary(rep):
    vae = molecules.load_pretrained(rep)
    assert isinstance(vae, molecules.SequenceVAE) and vae.decoder.teacher_forcing and vae.max_len == 48
    z, kept = molecules.encode_smiles(vae, SMILES[:2], rep)
    assert kept == [0, 1] and z.shape == (2, 32) and np.isfinite(z).all()
    assert all(chem.canonical(s) is not None for s in molecules.decode_smiles(vae, z, rep)) or rep == "smiles"


def test_qed_is_nan_for_invalid_strings_only():
    got = chem.qed(["CCO", "C(C", "", SMILES[1]])
    assert np.isnan(got[1]) and np.isnan(got[2]) and 0 < got[0] < 1 and 0 < got[3] < 1
    np.testing.assert_allclose(got[[0, 3]], chem.properties(["CCO", SMILES[1]])["QED"])


def test_paired_tanimoto_scores_each_pair_and_invalid_strings_zero():
    got = chem.paired_tanimoto([SMILES[0], SMILES[1], SMILES[2]], [SMILES[0], "C(C", SMILES[3]])
    assert got[0] == pytest.approx(1.0) and got[1] == 0.0
    assert got[2] == pytest.approx(chem.tanimoto_to(SMILES[2], [SMILES[3]])[0]) and got[2] < 1

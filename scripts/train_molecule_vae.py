"""Train notebook 11's sequence VAE for longer than a notebook can, and ship it (``aeutils/weights/``).

    OMP_NUM_THREADS=1 python scripts/train_molecule_vae.py --rep selfies --epochs 40 --free-bits 1.0

The model, data split, tokens and loss are notebook 11's (``aeutils.molecules``): the 48 000 training molecules left
after the seeded 2 000-molecule validation split of ``data/moses_train_50k.smi.gz``, molecules whose SMILES or
SELFIES exceed ``MAX_LEN`` tokens left out, the vocabulary of the training molecules, a 1-D convolutional encoder, a
teacher-forced GRU decoder, β = 0 for the first epoch then 1, free bits. The epoch with the lowest validation loss
(reconstruction + the true KL, the −ELBO; the free-bits floor only shapes the training loss) is kept. The test file
is not read. On the validation molecules the script prints what notebook 11 measures: exact and Tanimoto
reconstruction (greedy, posterior mean) against the same reconstructions shuffled, and validity and uniqueness of
1000 prior samples (temperature 1). The model is saved without optimizer state, with its vocabulary in its config;
copy the printed SHA-256 into ``aeutils.molecules.PRETRAINED_SHA256`` and the facts into
``aeutils/weights/README.md``.
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

from aeutils import chem, data, molecules  # noqa: E402

WEIGHTS = Path(__file__).resolve().parent.parent / "aeutils" / "weights"
N_VAL, MAX_LEN, LATENT_DIM, UNITS, BATCH_SIZE, LR = 2000, 48, 32, 128, 256, 2e-3


def split():
    """Notebook 11's split of the training file: (training SMILES, validation SMILES)."""
    train_all, _ = data.load_molecules()
    order = np.random.default_rng(0).permutation(len(train_all))
    return [train_all[i] for i in order[N_VAL:]], [train_all[i] for i in order[:N_VAL]], train_all


def training_rows(smiles, rep):
    """Token rows of the molecules whose SMILES and SELFIES both fit ``MAX_LEN`` (notebook 11's rule for training),
    and the vocabulary of all of them: (rows, vocabulary)."""
    seqs = {r: [molecules.TOKENISERS[r](s) for s in smiles] for r in molecules.TOKENISERS}
    vocab = molecules.Vocab.from_sequences(seqs[rep])
    kept = [i for i in range(len(smiles)) if all(len(seqs[r][i]) <= MAX_LEN for r in seqs)]
    return vocab.encode([seqs[rep][i] for i in kept], MAX_LEN), vocab


def build(vocab, free_bits, seed):
    """Notebook 11's ``make_vae``: conv encoder, teacher-forced GRU decoder, free bits, Adam."""
    keras.utils.set_random_seed(seed)
    encoder = molecules.conv_encoder(len(vocab), MAX_LEN + 1, LATENT_DIM)
    decoder = molecules.GRUDecoder(len(vocab), UNITS, teacher_forcing=True)
    vae = molecules.SequenceVAE(encoder, decoder, free_bits=free_bits, seed=seed, tokens=vocab.itos)
    vae.compile(optimizer=keras.optimizers.Adam(LR))
    return vae


def report(vae, rep, val_rows, train_canonical):
    """Validation measures of notebook 11's section 4."""
    originals = [molecules.tokens_to_smiles(t, rep) for t in vae.vocab.decode(val_rows)]
    rebuilt = molecules.decode_smiles(vae, keras.ops.convert_to_numpy(vae.posterior(val_rows)[0]), rep, seed=2)
    shuffled = [rebuilt[i] for i in np.random.default_rng(3).permutation(len(rebuilt))]
    z_prior = np.random.default_rng(2).normal(size=(1000, LATENT_DIM)).astype("float32")
    prior = chem.generation_metrics(molecules.decode_smiles(vae, z_prior, rep, temperature=1.0, seed=2),
                                    train_canonical)
    return {"exact": float(np.mean([chem.canonical(a) == chem.canonical(b) for a, b in zip(originals, rebuilt)])),
            "tanimoto": float(chem.paired_tanimoto(originals, rebuilt).mean()),
            "shuffled": float(chem.paired_tanimoto(originals, shuffled).mean()),
            "validity": prior["validity"], "uniqueness": prior["uniqueness"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rep", choices=sorted(molecules.TOKENISERS), required=True)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--free-bits", type=float, default=1.0, help="chosen on validation: aeutils/weights/README.md")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="default: aeutils/weights/molecule_vae_REP.keras")
    args = parser.parse_args()
    out = args.out or WEIGHTS / f"molecule_vae_{args.rep}.keras"
    train_smiles, val_smiles, train_all = split()
    rows, vocab = training_rows(train_smiles, args.rep)
    vae = build(vocab, args.free_bits, args.seed)
    val_rows, _ = molecules.rows_of(vae, val_smiles, args.rep)
    keep_best = keras.callbacks.EarlyStopping("val_loss", patience=args.epochs, restore_best_weights=True,
                                              start_from_epoch=1)  # epoch 1 has β = 0: its loss is no ELBO
    line = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: print(
        e + 1, " ".join(f"{k} {v:.3f}" for k, v in logs.items()), flush=True))
    start = time.perf_counter()
    history = vae.fit(rows, batch_size=BATCH_SIZE, epochs=args.epochs, verbose=0, validation_data=(val_rows,),
                      callbacks=[molecules.KLAnnealing(warmup_epochs=1), keep_best, line])
    seconds = time.perf_counter() - start
    val_loss = history.history["val_loss"]
    best = int(np.argmin(val_loss[1:])) + 1  # the epoch EarlyStopping restored
    plain = build(vocab, args.free_bits, args.seed)  # the same model without optimizer state, saved first
    plain.set_weights(vae.get_weights())
    out.parent.mkdir(parents=True, exist_ok=True)
    plain.save(out)
    facts = report(plain, args.rep, val_rows, set(chem.canonical_all(train_all)))
    print(f"{args.rep}: {plain.count_params()} parameters, vocabulary {len(vocab)}, training rows {len(rows)} | "
          f"epochs {args.epochs}, kept {best + 1} (validation loss {val_loss[best]:.2f}, KL "
          f"{history.history['val_kl'][best]:.2f}) | {seconds:.0f} s | free bits {args.free_bits} | seed {args.seed}")
    print("validation:", " ".join(f"{k} {v:.3f}" for k, v in facts.items()))
    print(f"TensorFlow {tf.__version__} | Keras {keras.__version__}")
    print(f"{out} ({out.stat().st_size} bytes) SHA-256 {hashlib.sha256(out.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main()

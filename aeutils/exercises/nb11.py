"""Exercises of notebook 11 (molecules): ``from aeutils.exercises.nb11 import q1, q2, q3``."""

from __future__ import annotations

import numpy as np

from aeutils.exercises import Exercise, call, check_whole_number

_ROWS = np.array([[1, 5, 6, 7, 2, 0, 0], [1, 8, 9, 2, 0, 0, 0]], np.int32)  # <bos> … <eos> <pad> …


def _check_teacher_forcing(fn) -> str | None:
    out = call(fn, _ROWS.copy())
    if not isinstance(out, tuple) or len(out) != 2:
        return "return two arrays: (decoder_inputs, targets)."
    inputs, targets = (np.asarray(a) for a in out)
    if inputs.shape != (2, 6) or targets.shape != (2, 6):
        return (f"both have one position fewer than the rows: shape (2, 6), not {inputs.shape} and {targets.shape}; "
                "the decoder reads position t and predicts position t + 1.")
    if np.array_equal(inputs, _ROWS[:, 1:]) and np.array_equal(targets, _ROWS[:, :-1]):
        return "swapped: the inputs start with <bos> (rows[:, :-1]); the targets are the rows shifted left."
    if not np.array_equal(inputs, _ROWS[:, :-1]):
        return "the decoder's inputs are the rows without their last position: rows[:, :-1] (they start with <bos>)."
    if not np.array_equal(targets, _ROWS[:, 1:]):
        return "the targets are the rows without their first position: rows[:, 1:] (they end with <eos> and padding)."
    return None


def _check_tokens(answer) -> str | None:
    return check_whole_number(
        answer, 16,
        {23: "that counts characters: '[C@@H]' is one bracket atom and 'Cl', 'Br' are one atom each.",
         18: "'[C@@H]' is one token: everything between square brackets is one atom.",
         15: "count the ring-closure digits too: '1' opens and closes the benzene ring (two tokens)."},
        "C, [C@@H], (, Cl, ), c, 1, c, c, c, (, Br, ), c, c, 1.",
    )


def _check_novelty(fn) -> str | None:
    training = {"CCO", "c1ccccc1"}
    generated = ["CCO", "CCN", None, "CCN", "c1ccccc1", "CCC", None]
    got = float(call(fn, generated, training))
    if np.isclose(got, 2 / 7) or np.isclose(got, 3 / 7):
        return "divide by the distinct valid molecules, not by every string: drop the None and count repeats once."
    if np.isclose(got, 3 / 5):
        return "count each distinct molecule once: 'CCN' appears twice but is one novel molecule."
    if np.isclose(got, 3 / 4):
        return "that fraction counts repeats and drops invalids inconsistently: use the set of valid molecules."
    if not np.isclose(got, 2 / 4):
        return f"the check's generated list has 4 distinct valid molecules, 2 of them novel; you returned {got:.3f}."
    if not np.isclose(float(call(fn, [None, None], training)), 0.0):
        return "with no valid molecule, return 0 (nothing is novel), without dividing by zero."
    return None


q1 = Exercise(
    "q1 · teacher forcing",
    _check_teacher_forcing,
    "the decoder reads the true token at position t and predicts the one at t + 1: slice the rows twice.",
    "def teacher_forcing(rows_):\n    return rows_[:, :-1], rows_[:, 1:]",
)
q2 = Exercise(
    "q2 · counting SMILES tokens",
    _check_tokens,
    "bracket atoms are one token, so are Cl and Br; parentheses and ring digits are tokens too. Check with "
    "molecules.smiles_tokens after answering.",
    "16  # C [C@@H] ( Cl ) c 1 c c c ( Br ) c c 1",
)
q3 = Exercise(
    "q3 · novelty",
    _check_novelty,
    "distinct valid molecules: set(g for g in generated if g is not None); novel ones: those not in training.",
    "def novelty(generated, training):\n    unique = {g for g in generated if g is not None}\n"
    "    return len(unique - training) / len(unique) if unique else 0.0",
)

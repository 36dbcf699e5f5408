"""Recording the numbers a notebook computes and the comparisons its prose makes, so the harness
(``python -m aeutils.run``) can collect both.

* ``record("nb01.ae_mse_L32", mse)`` prints the value and returns it;
* ``claim("nb01.ae_beats_pca_every_L", all(...), "the AE beats PCA at every code size")`` prints ✓ or ✗ with the
  statement and returns whether it holds.

When the harness runs a notebook, both append one JSON line to the file named by ``AEUTILS_RESULTS_FILE``.
A claim that does not hold never raises in the notebook: the harness's ``--check`` fails on it in full mode,
and quick mode (tiny budgets) only prints it. Taught from notebook 01 on.
"""

from __future__ import annotations

import json
import math
import os
import re

import numpy as np

RESULTS_ENV = "AEUTILS_RESULTS_FILE"
_NAME = re.compile(r"^nb(\d\d|A\d)\.[A-Za-z0-9_]+$")

recorded: dict[str, float] = {}
claims: dict[str, dict] = {}


def _check_name(name: str, what: str, example: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"{what} names look like {example!r} (nbNN.words_and_digits), not {name!r}.")


def _append(row: dict) -> None:
    path = os.environ.get(RESULTS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def record(name: str, value, note: str = "") -> float:
    """Record metric ``name`` (``nbNN.what``) with a finite numeric ``value``; print it; return it as float."""
    _check_name(name, "Metric", "nb01.ae_mse_L32")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} is {value}: only finite numbers can be recorded.")
    recorded[name] = value
    print(f"[record] {name} = {value:.6g}" + (f"  ({note})" if note else ""))
    _append({"name": name, "value": value, "note": note})
    return value


def claim(name: str, holds, statement: str) -> bool:
    """Check a comparison the prose makes, computed from this run's variables; print ✓/✗ and the statement.

    ``holds`` must be a truth value (a Python or NumPy bool, or a one-element array): a claim about many
    things is written with ``all(...)``/``any(...)`` so that its meaning is explicit. Returns ``holds``.
    """
    _check_name(name, "Claim", "nb03.dae_beats_classical_every_sigma")
    if not isinstance(statement, str) or not statement.strip():
        raise ValueError(f"claim {name!r} needs a statement: the sentence of the prose it checks.")
    if isinstance(holds, np.ndarray):
        if holds.size != 1:
            raise TypeError(f"claim {name!r}: holds is an array of {holds.size} values; use all(...) or any(...).")
        holds = holds.item()
    if not isinstance(holds, (bool, np.bool_)):
        raise TypeError(f"claim {name!r}: holds must be a truth value (a comparison), not {type(holds).__name__}.")
    holds = bool(holds)
    claims[name] = {"statement": statement, "holds": holds}
    print(f"[claim] {'✓' if holds else '✗'} {statement}  ({name})")
    _append({"claim": name, "statement": statement, "holds": holds})
    return holds


def noise_margin(reference: float, *standard_errors: float, relative: float = 0.05) -> float:
    """The series' rule for a gap worth a claim: it must exceed both ``relative`` (5 %) of ``|reference|`` and two
    standard errors of the difference, ``2·sqrt(Σ se²)`` (independent estimates; pass one paired standard error for a
    paired difference). Used by notebooks 07, 09 and 10."""
    return max(relative * abs(reference), 2 * math.hypot(*standard_errors))


def note_machine(facts: dict) -> None:
    """Append the kernel's machine facts (called by :func:`aeutils.notebook.setup`): the harness stores these,
    not its own process's, beside the notebook's results."""
    _append({"machine": facts})


def read_recorded(path) -> dict[str, dict]:
    """The metrics a notebook run wrote to ``path`` (later records of the same name win)."""
    return read_run(path)[0]


def read_run(path) -> tuple[dict, dict, dict | None]:
    """Everything a notebook run wrote to ``path``, in one pass: its metrics ``{name: {"value", "note"}}``, its
    claims ``{name: {"statement", "holds"}}`` (later entries of a name win) and the machine facts its kernel noted
    (None when its setup cell did not run)."""
    metrics: dict[str, dict] = {}
    found: dict[str, dict] = {}
    machine = None
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                row = json.loads(line)
                if "machine" in row:
                    machine = row["machine"]
                elif "claim" in row:
                    found[row["claim"]] = {"statement": row["statement"], "holds": bool(row["holds"])}
                else:
                    metrics[row["name"]] = {"value": row["value"], "note": row.get("note", "")}
    return metrics, found, machine

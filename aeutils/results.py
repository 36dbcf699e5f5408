"""Recording the numbers a notebook computes, so the harness (``python -m aeutils.run``) can collect them.

In a notebook, ``record("nb01.ae_mse_L32", mse)`` prints the value and, when the harness runs the notebook,
appends it to the JSON-lines file named by ``AEUTILS_RESULTS_FILE``. Taught from notebook 01 on.
"""

from __future__ import annotations

import json
import math
import os
import re

RESULTS_ENV = "AEUTILS_RESULTS_FILE"
_NAME = re.compile(r"^nb\d\d\.[A-Za-z0-9_]+$")

recorded: dict[str, float] = {}


def record(name: str, value, note: str = "") -> float:
    """Record metric ``name`` (``nbNN.what``) with a finite numeric ``value``; print it; return it as float."""
    if not _NAME.match(name):
        raise ValueError(f"Metric names look like 'nb01.ae_mse_L32' (nbNN.words_and_digits), not {name!r}.")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} is {value}: only finite numbers can be recorded.")
    recorded[name] = value
    print(f"[record] {name} = {value:.6g}" + (f"  ({note})" if note else ""))
    path = os.environ.get(RESULTS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"name": name, "value": value, "note": note}) + "\n")
    return value


def read_recorded(path) -> dict[str, dict]:
    """The metrics a notebook run wrote to ``path`` (later records of the same name win)."""
    out: dict[str, dict] = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    row = json.loads(line)
                    out[row["name"]] = {"value": row["value"], "note": row.get("note", "")}
    return out

"""The run harness: ``python -m aeutils.run [--full|--quick] [--check] [NOTEBOOK ...]``.

Executes notebooks with papermill in a temporary folder outside the source tree, collects what they
``record`` (see :mod:`aeutils.results`) and their wall time, and writes the results:

* full mode (the default, no mocks): ``results/full.json``, ``docs/RESULTS.md``, the gallery figures in
  ``docs/images/`` and each executed notebook, outputs embedded and execution metadata stripped, in
  ``docs/notebooks/`` (:func:`aeutils.site.publish`: what the README links and the site is built from); entries
  of notebooks not run this time are kept;
* quick mode (the ``nbmake`` mock values as papermill parameters): ``results/quick.json`` only, so a quick
  run never overwrites full-mode results.

``--check`` exits non-zero when a target of :mod:`aeutils.targets` is missed, an expected metric is missing or,
in full mode, a claim (:func:`aeutils.results.claim`) does not hold; quick mode prints claims and never fails on
them. Every cell runs under a timeout (``--cell-timeout``, twice the full-mode budget by default): a stalled
kernel fails that notebook, naming the cell, instead of hanging the run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from aeutils.notebook import machine_facts
from aeutils.results import RESULTS_ENV, read_run
from aeutils.site import publish
from aeutils.targets import FULL_MODE_SECONDS, METRICS, TARGETS, split_of

GALLERY_ENV = "AEUTILS_GALLERY_DIR"
CELL_TIMEOUT = 2 * FULL_MODE_SECONDS  # seconds one cell may run before its notebook counts as failed


def quick_parameters(notebook: Path) -> dict:
    """The ``nbmake`` → ``mock`` values of the notebook's cell tagged ``parameters``."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return dict(cell["metadata"].get("nbmake", {}).get("mock", {}))
    raise ValueError(f"{notebook} has no cell tagged 'parameters'.")


def execute(notebook: Path, quick: bool, gallery_out: Path | None, keep: Path | None = None,
            cell_timeout: float = CELL_TIMEOUT, published: Path | None = None) -> dict:
    """Run one notebook in a fresh temporary folder; return its seconds, metrics, claims and error (if any).
    A run without error is also saved, cleaned, into ``published`` (full mode: ``docs/notebooks/``)."""
    import papermill

    with tempfile.TemporaryDirectory(prefix="aeutils-run-") as tmp:
        tmp = Path(tmp)
        results_file, gallery = tmp / "recorded.jsonl", tmp / "gallery"
        gallery.mkdir()
        saved_env = {k: os.environ.get(k) for k in (RESULTS_ENV, GALLERY_ENV)}
        os.environ.update({RESULTS_ENV: str(results_file), GALLERY_ENV: str(gallery)})
        error, start = None, time.perf_counter()
        try:
            papermill.execute_notebook(
                str(notebook), str(tmp / notebook.name), cwd=str(tmp), kernel_name="python3",
                parameters=quick_parameters(notebook) if quick else {}, progress_bar=False,
                execution_timeout=cell_timeout,
            )
        except Exception as err:  # PapermillExecutionError (a cell raised) or nbclient's CellTimeoutError
            error = failed_cell(tmp / notebook.name) + describe_error(err)
        finally:
            for key, value in saved_env.items():
                if value is None:
                    os.environ.pop(key)
                else:
                    os.environ[key] = value
        seconds = time.perf_counter() - start
        if keep is not None and (tmp / notebook.name).exists():
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copy2(tmp / notebook.name, keep / notebook.name)
        if published is not None and error is None:
            publish(tmp / notebook.name, published)
        if gallery_out is not None and error is None:
            gallery_out.mkdir(parents=True, exist_ok=True)
            for png in sorted(gallery.glob("*.png")):
                shutil.copy2(png, gallery_out / png.name)
        recorded, claims, machine = read_run(results_file)
    metrics = {k: v["value"] for k, v in recorded.items()}
    return {"seconds": round(seconds, 1), "metrics": metrics, "claims": claims, "machine": machine, "error": error}


def describe_error(err: Exception) -> str:
    """The exception a notebook ended with, by name and message: papermill's own text puts them at the end of a
    long traceback, and a cell timeout's first line says how long it waited."""
    if hasattr(err, "ename") and hasattr(err, "evalue"):  # PapermillExecutionError: the exception raised in the cell
        return f"{err.ename}: {err.evalue}"
    first = (str(err).strip().splitlines() or [""])[0]
    return f"{type(err).__name__}: {first}"


def failed_cell(executed: Path) -> str:
    """"code cell K (`first line`): " for the cell that failed or timed out in ``executed`` (K counts the
    notebook's own code cells from 1, as a reader does; papermill's injected cells are skipped), or ""."""
    if not executed.exists():
        return ""
    cells = [c for c in json.loads(executed.read_text(encoding="utf-8"))["cells"]
             if c["cell_type"] == "code" and "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    started = [(k, c) for k, c in enumerate(cells, start=1)
               if c.get("metadata", {}).get("papermill", {}).get("start_time")]
    if not started:  # papermill stops at the cell that raised or timed out: the last one it started
        return ""
    k, cell = started[-1]
    first = ("".join(cell["source"]).strip().splitlines() or [""])[0]
    return f"code cell {k} (`{first[:80]}`): "


def evaluate(stem: str, metrics: dict, seconds: float, others: dict | None = None) -> tuple[list[dict], list[str]]:
    """Each target's value and verdict, and the expected metrics that were not recorded. ``others`` holds the
    other notebooks' latest metrics, for targets across notebooks (``Target.lowest_of``)."""
    values = {**(others or {}), **metrics, f"nb{stem[:2]}.wall_s": seconds}
    rows = [
        {"label": t.label, "quantity": t.quantity, "split": t.split, "op": t.op, "bound": t.bound,
         "value": t.value(values), "met": t.met(values)}
        for t in TARGETS.get(stem, [])
    ]
    missing = sorted(set(METRICS.get(stem, {})) - set(metrics))
    return rows, missing


def _others(results: dict, stem: str) -> dict:
    """Every other notebook's latest metrics, for targets across notebooks."""
    return {k: v for name, e in results["notebooks"].items() if name != stem for k, v in e["metrics"].items()}


def refresh_targets(results: dict) -> None:
    """Re-evaluate every notebook's stored metrics against the current targets: a later run of notebook 06 updates
    notebook 07's "best VAE of 06–07" verdict, and a target changed in ``aeutils.targets`` shows at once."""
    for stem, entry in results["notebooks"].items():
        entry["targets"], entry["missing"] = evaluate(stem, entry["metrics"], entry["seconds"], _others(results, stem))


def write_results_md(results: dict, path: Path) -> None:
    """Regenerate ``docs/RESULTS.md`` from the full-mode results."""
    lines = ["# Results (full mode)", "",
             "Generated by `python -m aeutils.run --full` from `results/full.json`; do not edit by hand.", ""]
    for stem, entry in sorted(results.get("notebooks", {}).items()):
        m = entry["machine"]
        lines += [f"## {stem}", "",
                  f"{entry['seconds']:.0f} s on {m['cpus']} CPUs ({m['processor']}), TensorFlow {m['tensorflow']},"
                  f" Keras {m['keras']}; finished {entry['finished']}.", "",
                  "| metric | split | value | target | met? |", "|---|---|---|---|---|"]
        for row in entry["targets"]:
            value = "missing" if row["value"] is None else f"{row['value']:.4g}"
            lines.append(f"| {row['label']} (`{row['quantity']}`) | {row.get('split', '')} | {value} | "
                         f"{row['op']} {row['bound']:g} | {'yes' if row['met'] else '**no**'} |")
        described = METRICS.get(stem, {})
        for name, value in sorted(entry["metrics"].items()):
            lines.append(f"| {described.get(name, name)} (`{name}`) | {split_of(name)} | {value:.4g} | | |")
        claims = entry.get("claims", {})
        if claims:
            lines += ["", f"Claims the prose makes, checked by this run ({sum(c['holds'] for c in claims.values())}"
                      f" of {len(claims)} hold):", "", "| claim | statement | holds? |", "|---|---|---|"]
            lines += [f"| `{n}` | {c['statement']} | {'yes' if c['holds'] else '**no**'} |"
                      for n, c in sorted(claims.items())]
        lines.append("")
    _write_atomically(path, "\n".join(lines))


def load_results(path: Path) -> dict:
    """The stored results of one mode; an unreadable file is moved aside (``.corrupt``), never silently lost."""
    if not path.exists():
        return {"notebooks": {}}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        aside = path.with_suffix(path.suffix + ".corrupt")
        os.replace(path, aside)
        print(f"warning: {path} was unreadable ({err}); moved it to {aside} and started afresh", flush=True)
        return {"notebooks": {}}


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path`` (never half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def save_results(results: dict, results_path: Path, root: Path, quick: bool) -> None:
    """Re-evaluate the targets and write the results (and, in full mode, docs/RESULTS.md), each atomically."""
    refresh_targets(results)
    _write_atomically(results_path, json.dumps(results, indent=2, sort_keys=True) + "\n")
    if not quick:
        write_results_md(results, root / "docs" / "RESULTS.md")


def merged(stored: dict, ours: dict, ran: set[str]) -> dict:
    """``stored`` (the file as it is now) with the entries of the notebooks this run finished taken from ``ours``:
    two harness runs at once (say, two notebooks being developed) then never undo each other's results."""
    stored["notebooks"].update({stem: ours["notebooks"][stem] for stem in ran})
    return stored


def run(notebooks: list[Path], root: Path, quick: bool = False, check: bool = False, keep: Path | None = None,
        cell_timeout: float = CELL_TIMEOUT) -> int:
    """Run ``notebooks``, update the results of their mode, print a report; return the exit status."""
    results_path = root / "results" / ("quick.json" if quick else "full.json")
    results = load_results(results_path)
    status, ran = 0, set()
    for nb in notebooks:
        stem = nb.stem
        print(f"== {stem} ({'quick mode: targets apply to full mode' if quick else 'full mode'}) ...", flush=True)
        out = execute(nb, quick, None if quick else root / "docs" / "images", keep, cell_timeout,
                      None if quick else root / "docs" / "notebooks")  # the executed notebook, published
        rows, missing = evaluate(stem, out["metrics"], out["seconds"], _others(results, stem))
        print(f"   {out['seconds']:.1f} s, {len(out['metrics'])} metrics recorded, {len(out['claims'])} claims")
        for name, value in sorted(out["metrics"].items()):
            print(f"   {name:<40} {value:.6g}")
        if out["error"]:
            print(f"   FAILED: {out['error']}")  # a failed run never replaces a good entry
            status = 1
        else:
            status |= report_and_store(results, stem, out, rows, missing, check=check, quick=quick)
            ran.add(stem)
        results = merged(load_results(results_path), results, ran)  # keep what another run saved meanwhile
        save_results(results, results_path, root, quick)  # after every notebook: an interrupt loses nothing done
    print(f"wrote {results_path}" + ("" if quick else " and docs/RESULTS.md"))
    return status


def report_and_store(results: dict, stem: str, out: dict, rows: list[dict], missing: list[str], check: bool,
                     quick: bool) -> int:
    """Print a successful run's targets and claims, store its entry in ``results``; return 1 if ``--check`` fails."""
    for row in rows:
        value = "missing" if row["value"] is None else f"{row['value']:.4g}"
        print(f"   target {row['label']:<32} {value:>9} {row['op']} {row['bound']:<6g} "
              f"{'met' if row['met'] else 'MISSED'}")
    for name, c in sorted(out["claims"].items()):
        print(f"   claim {'holds ' if c['holds'] else 'FAILS '} {name}: {c['statement']}")
    if missing:
        print(f"   expected metrics not recorded: {', '.join(missing)}")
    results["notebooks"][stem] = {
        "mode": "quick" if quick else "full", "seconds": out["seconds"], "metrics": out["metrics"],
        "claims": out["claims"], "targets": rows, "missing": missing,
        "machine": out["machine"] or machine_facts(),  # the kernel's, noted by its setup cell, else ours
        "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    false_claims = [] if quick else [n for n, c in out["claims"].items() if not c["holds"]]
    return int(check and bool(missing or false_claims or not all(r["met"] for r in rows)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aeutils.run", description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--full", action="store_true", help="no mocks: the full lessons (default)")
    mode.add_argument("--quick", action="store_true", help="the nbmake mock values, as CI runs them")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when a target is missed (or, in full mode, a claim does not hold)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository root (default: .)")
    parser.add_argument("--cell-timeout", type=float, default=CELL_TIMEOUT,
                        help=f"seconds a cell may run before the notebook fails (default {CELL_TIMEOUT})")
    parser.add_argument("--keep", type=Path, help="also save the executed notebooks (with outputs) here")
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/*.ipynb")
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or sorted((args.root / "notebooks").glob("*.ipynb"))
    absent = [str(p) for p in notebooks if not p.is_file()]
    if absent or not notebooks:
        parser.error(f"no such notebook: {', '.join(absent)}" if absent else "no notebooks found")
    return run(notebooks, args.root.resolve(), quick=args.quick, check=args.check, keep=args.keep,
               cell_timeout=args.cell_timeout)


if __name__ == "__main__":
    sys.exit(main())

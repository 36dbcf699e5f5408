"""aeutils.results, aeutils.targets and the harness aeutils.run, on tiny notebooks that need no TensorFlow."""

import json

import nbformat
import pytest

from aeutils import results, run, targets


def test_record_validates_and_appends(tmp_path, monkeypatch, capsys):
    path = tmp_path / "rec.jsonl"
    monkeypatch.setenv(results.RESULTS_ENV, str(path))
    assert results.record("nb01.toy_mse", 0.25) == 0.25
    results.record("nb01.toy_mse", 0.125)
    assert results.read_recorded(path)["nb01.toy_mse"]["value"] == 0.125
    assert "[record] nb01.toy_mse = 0.125" in capsys.readouterr().out
    with pytest.raises(ValueError, match="finite"):
        results.record("nb01.toy_mse", float("nan"))
    with pytest.raises(ValueError, match="nbNN"):
        results.record("toy mse", 1.0)


def test_target_ratio_and_missing():
    t = targets.Target("ratio", "nb01.a", "<=", 0.5, per="nb01.b")
    assert t.value({"nb01.a": 1.0, "nb01.b": 4.0}) == 0.25 and t.met({"nb01.a": 1.0, "nb01.b": 4.0})
    assert not t.met({"nb01.a": 3.0, "nb01.b": 4.0})
    assert t.value({"nb01.a": 1.0}) is None and not t.met({"nb01.a": 1.0})


def test_target_difference():
    t = targets.Target("gain", "nb03.a", ">=", 5.0, minus="nb03.b")
    assert t.value({"nb03.a": 21.5, "nb03.b": 16.0}) == 5.5 and t.met({"nb03.a": 21.5, "nb03.b": 16.0})
    assert not t.met({"nb03.a": 20.0, "nb03.b": 16.0}) and not t.met({"nb03.a": 21.5})
    assert t.quantity == "nb03.a - nb03.b"


def test_target_lowest_of_several(monkeypatch):
    t = targets.Target("best", "nb07.a", "<=", 232, lowest_of=("nb06.a",))
    assert t.value({"nb07.a": 240.0, "nb06.a": 230.0}) == 230.0 and t.met({"nb07.a": 240.0, "nb06.a": 230.0})
    assert t.value({"nb07.a": 240.0}) == 240.0 and not t.met({"nb07.a": 240.0})
    assert t.value({}) is None and t.quantity == "min(nb07.a, nb06.a)"
    monkeypatch.setitem(run.TARGETS, "07_x", [t])
    rows, _ = run.evaluate("07_x", {"nb07.a": 240.0}, 1.0, others={"nb06.a": 231.0, "nb07.a": 200.0})
    assert rows[0]["value"] == 231.0 and rows[0]["met"]  # this run's own nb07.a wins over a stale one
    results = {"notebooks": {"07_x": {"metrics": {"nb07.a": 240.0}, "seconds": 1.0, "targets": rows},
                             "06_x": {"metrics": {"nb06.a": 235.0}, "seconds": 1.0, "targets": []}}}
    run.refresh_targets(results)  # notebook 06 was re-run later and got worse: 07's verdict follows
    assert results["notebooks"]["07_x"]["targets"][0]["value"] == 235.0
    assert not results["notebooks"]["07_x"]["targets"][0]["met"]
    monkeypatch.setitem(run.TARGETS, "06_x", [targets.Target("new", "nb06.a", "<=", 236)])
    run.refresh_targets(results)  # a target added after notebook 06's run is judged on its stored metrics
    assert results["notebooks"]["06_x"]["targets"][0]["met"] and results["notebooks"]["06_x"]["missing"] == []


def test_every_target_metric_is_declared():
    everything = set().union(*map(set, targets.METRICS.values()))
    for stem, rows in targets.TARGETS.items():
        declared = set(targets.METRICS[stem]) | {f"nb{stem[:2]}.wall_s"}
        for t in rows:
            assert all(m is None or m in declared for m in (t.metric, t.per, t.minus)), t
            assert all(m in everything for m in t.lowest_of), t


def make_notebook(path, value, mock_value, fail=False, extra=""):
    """A notebook with a parameters cell (with an nbmake mock) that records X, then runs ``extra``."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(f"X = {value}")
    params.metadata = {"tags": ["parameters"], "nbmake": {"mock": {"X": mock_value}}}
    body = "from aeutils.results import record\nfrom aeutils.plotting import save_for_gallery\n"
    body += "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
    body += "record('nb99.x', X)\nsave_for_gallery(plt.figure(), 'nb99_fig')\n"
    nb.cells = [params, nbformat.v4.new_code_cell(body + ("1/0" if fail else ""))]
    if extra:
        nb.cells.append(nbformat.v4.new_code_cell(extra))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.setitem(targets.METRICS, "99_demo", {"nb99.x": "x", "nb99.y": "never recorded"})
    monkeypatch.setitem(targets.TARGETS, "99_demo", [targets.Target("x small", "nb99.x", "<=", 5)])
    monkeypatch.setitem(run.TARGETS, "99_demo", targets.TARGETS["99_demo"])
    (tmp_path / "notebooks").mkdir()
    return tmp_path


def test_full_then_quick_then_check(repo):
    nb = make_notebook(repo / "notebooks" / "99_demo.ipynb", 3, 7)
    full = repo / "results" / "full.json"
    full.parent.mkdir()
    other = {"mode": "full", "seconds": 1.0, "metrics": {"nb50.z": 1.0}, "targets": [], "missing": [],
             "finished": "earlier", "machine": {"cpus": 2, "processor": "x", "tensorflow": "t", "keras": "k"}}
    full.write_text(json.dumps({"notebooks": {"50_other": other}}))

    assert run.main(["--full", "--root", str(repo), "--keep", str(repo / "out"), str(nb)]) == 0  # no --check
    entry = json.loads(full.read_text())["notebooks"]["99_demo"]
    assert entry["metrics"] == {"nb99.x": 3.0} and entry["mode"] == "full"
    assert entry["targets"][0]["met"] and entry["missing"] == ["nb99.y"]
    assert entry["machine"]["cpus"] >= 1 and "tensorflow" in entry["machine"]
    assert json.loads(full.read_text())["notebooks"]["50_other"] == other  # subset run keeps others
    assert (repo / "docs" / "images" / "nb99_fig.png").is_file()
    executed = nbformat.read(repo / "out" / "99_demo.ipynb", as_version=4)
    assert "nb99.x = 3" in str(executed.cells[-1].outputs)
    md = (repo / "docs" / "RESULTS.md").read_text()
    assert "99_demo" in md and "| x small" in md

    assert run.main(["--quick", "--check", "--root", str(repo), str(nb)]) == 1  # 7 > 5 and y missing
    assert json.loads(full.read_text())["notebooks"]["99_demo"]["metrics"] == {"nb99.x": 3.0}
    quick = json.loads((repo / "results" / "quick.json").read_text())["notebooks"]["99_demo"]
    assert quick["metrics"] == {"nb99.x": 7.0} and not quick["targets"][0]["met"]


def test_failed_notebook_fails_and_keeps_old_entry(repo, capsys):
    good = make_notebook(repo / "notebooks" / "99_demo.ipynb", 3, 3)
    assert run.main(["--quick", "--root", str(repo), str(good)]) == 0
    before = json.loads((repo / "results" / "quick.json").read_text())["notebooks"]["99_demo"]
    assert before["metrics"] == {"nb99.x": 3.0}
    bad = make_notebook(repo / "notebooks" / "99_demo.ipynb", 4, 4, fail=True)
    assert run.main(["--quick", "--root", str(repo), str(bad)]) == 1
    out = capsys.readouterr().out
    assert "FAILED: code cell 2 (`from aeutils.results import record`): ZeroDivisionError: division by zero" in out
    assert json.loads((repo / "results" / "quick.json").read_text())["notebooks"]["99_demo"] == before


def test_results_are_saved_after_each_notebook(repo, monkeypatch):
    first = make_notebook(repo / "notebooks" / "99_demo.ipynb", 3, 3)
    second = make_notebook(repo / "notebooks" / "98_demo.ipynb", 1, 1)
    real_execute = run.execute

    def interrupted(nb, *args):
        if nb.stem == "98_demo":
            raise KeyboardInterrupt  # the learner presses Ctrl-C during the second notebook
        return real_execute(nb, *args)

    monkeypatch.setattr(run, "execute", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run.main(["--full", "--root", str(repo), str(first), str(second)])
    saved = json.loads((repo / "results" / "full.json").read_text())["notebooks"]
    assert saved["99_demo"]["metrics"] == {"nb99.x": 3.0}
    assert "99_demo" in (repo / "docs" / "RESULTS.md").read_text()
    assert not [p for p in (repo / "results").iterdir() if p.name.startswith(".")]  # no temporary file left


def test_a_run_saved_meanwhile_by_another_harness_is_kept(repo, monkeypatch):
    nb = make_notebook(repo / "notebooks" / "99_demo.ipynb", 3, 3)
    full = repo / "results" / "full.json"
    real_execute = run.execute
    theirs = {"mode": "full", "seconds": 2.0, "metrics": {"nb50.z": 2.0}, "targets": [], "missing": [],
              "finished": "meanwhile", "machine": {"cpus": 2, "processor": "x", "tensorflow": "t", "keras": "k"}}

    def other_run_saves_meanwhile(*args):
        out = real_execute(*args)
        full.parent.mkdir(exist_ok=True)
        full.write_text(json.dumps({"notebooks": {"50_other": theirs}}))  # saved after our run loaded the file
        return out

    monkeypatch.setattr(run, "execute", other_run_saves_meanwhile)
    assert run.main(["--full", "--root", str(repo), str(nb)]) == 0
    saved = json.loads(full.read_text())["notebooks"]
    assert saved["50_other"]["metrics"] == {"nb50.z": 2.0} and saved["99_demo"]["metrics"] == {"nb99.x": 3.0}


def test_an_unreadable_results_file_is_moved_aside(repo, capsys):
    (repo / "results").mkdir()
    (repo / "results" / "quick.json").write_text('{"notebooks": {"50_x": ')  # truncated by a crash
    nb = make_notebook(repo / "notebooks" / "99_demo.ipynb", 3, 3)
    assert run.main(["--quick", "--root", str(repo), str(nb)]) == 0
    assert "moved it to" in capsys.readouterr().out
    assert (repo / "results" / "quick.json.corrupt").read_text() == '{"notebooks": {"50_x": '
    assert "99_demo" in json.loads((repo / "results" / "quick.json").read_text())["notebooks"]


def test_claim_validates_prints_and_appends(tmp_path, monkeypatch, capsys):
    import numpy as np

    path = tmp_path / "rec.jsonl"
    monkeypatch.setenv(results.RESULTS_ENV, str(path))
    assert results.claim("nb01.small", np.float32(1.0) < 2, "one is below two") is True
    assert results.claim("nb01.big", np.array([3]) < 2, "three is below two") is False
    out = capsys.readouterr().out
    assert "✓ one is below two" in out and "✗ three is below two" in out
    assert results.read_run(path)[1] == {"nb01.small": {"statement": "one is below two", "holds": True},
                                         "nb01.big": {"statement": "three is below two", "holds": False}}
    assert results.read_recorded(path) == {}  # claims are not metrics
    with pytest.raises(TypeError, match="all"):
        results.claim("nb01.many", np.array([1, 2]) < 3, "both below three")
    with pytest.raises(TypeError, match="truth value"):
        results.claim("nb01.number", 0.5, "a number is not a claim")
    with pytest.raises(ValueError, match="statement"):
        results.claim("nb01.empty", True, " ")
    with pytest.raises(ValueError, match="nbNN"):
        results.claim("no name", True, "x")


def test_target_split_is_read_from_the_metric_name():
    assert targets.split_of("nb01.ae_mse_ratio_L2_val") == "validation"
    assert targets.split_of("nb01.ae_mse_L2") == "test"
    assert targets.split_of("nb01.wall_s") == "time" and targets.split_of("nb02.epoch_s_conv") == "time"
    assert targets.Target("x", "nb03.psnr_dae_s03_val", ">=", 1).split == "validation"


CLAIMS = ("from aeutils.results import claim\n"
          "claim('nb99.true', X < 5, 'x is small')\nclaim('nb99.false', X > 5, 'x is big')")


def test_claims_are_collected_listed_and_fail_check_in_full_mode_only(repo, capsys):
    nb = make_notebook(repo / "notebooks" / "99_demo.ipynb", 3, 3, extra=CLAIMS)
    targets.METRICS["99_demo"].pop("nb99.y")
    assert run.main(["--full", "--root", str(repo), str(nb)]) == 0  # no --check: report only
    entry = json.loads((repo / "results" / "full.json").read_text())["notebooks"]["99_demo"]
    assert entry["claims"] == {"nb99.true": {"statement": "x is small", "holds": True},
                               "nb99.false": {"statement": "x is big", "holds": False}}
    md = (repo / "docs" / "RESULTS.md").read_text()
    assert "1 of 2 hold" in md and "| `nb99.false` | x is big | **no** |" in md and "| test |" in md
    assert "claim FAILS  nb99.false: x is big" in capsys.readouterr().out
    assert run.main(["--full", "--check", "--root", str(repo), str(nb)]) == 1  # a false claim fails --check
    assert run.main(["--quick", "--check", "--root", str(repo), str(nb)]) == 0  # quick mode never does
    quick = json.loads((repo / "results" / "quick.json").read_text())["notebooks"]["99_demo"]
    assert quick["claims"]["nb99.false"]["holds"] is False
    nb = make_notebook(repo / "notebooks" / "99_demo.ipynb", 3, 3, extra=CLAIMS.replace("X > 5", "X > 1"))
    assert run.main(["--full", "--check", "--root", str(repo), str(nb)]) == 0


def test_a_stalled_cell_fails_its_notebook_and_is_named(repo, capsys):
    nb = make_notebook(repo / "notebooks" / "99_demo.ipynb", 3, 3, extra="import time\ntime.sleep(60)")
    assert run.main(["--full", "--cell-timeout", "3", "--root", str(repo), str(nb)]) == 1
    out = capsys.readouterr().out
    assert "FAILED: code cell 3 (`import time`)" in out and "CellTimeoutError" in out
    full = repo / "results" / "full.json"
    assert "99_demo" not in json.loads(full.read_text())["notebooks"]  # a timed-out run records nothing




def test_the_kernels_machine_is_stored(repo):
    facts = {"cpus": 99, "processor": "kernel-cpu", "tensorflow": "t", "keras": "k"}
    nb = make_notebook(repo / "notebooks" / "99_demo.ipynb", 3, 3,
                       extra=f"from aeutils.results import note_machine\nnote_machine({facts!r})")
    assert run.main(["--full", "--root", str(repo), str(nb)]) == 0
    assert json.loads((repo / "results" / "full.json").read_text())["notebooks"]["99_demo"]["machine"] == facts
    assert "on 99 CPUs (kernel-cpu)" in (repo / "docs" / "RESULTS.md").read_text()


def test_noise_margin_is_the_larger_of_five_percent_and_two_standard_errors():
    from aeutils.results import noise_margin

    assert noise_margin(10.0, 0.1, 0.2) == pytest.approx(0.5)  # 5 % of 10 beats 2·hypot(0.1, 0.2) ≈ 0.447
    assert noise_margin(1.0, 0.3, 0.4) == pytest.approx(1.0)  # 2·hypot(0.3, 0.4) = 1.0 beats 0.05
    assert noise_margin(-4.0, 0.0) == pytest.approx(0.2) and noise_margin(2.0, 0.3, relative=0.5) == pytest.approx(1.0)

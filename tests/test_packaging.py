"""Packaging: environment.yml and pyproject.toml agree; the runtime dependencies are exactly what the notebooks and
aeutils import; the built wheel imports everything the notebooks import on top of the runtime dependencies alone."""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: tomllib's backport, when installed
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
HARNESS_ONLY = {"run.py", "site.py"}  # the harness and the site build, each with its extra; no notebook imports them


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def split(spec: str) -> tuple[str, str]:
    name, bound = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", spec.strip()).groups()
    return normalise(name), bound.replace(" ", "")


def test_environment_matches_pyproject():
    extras = PROJECT["optional-dependencies"]
    wanted = dict(map(split, PROJECT["dependencies"] + extras["jupyter"] + extras["dev"]))
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = dict(split(d) for d in env["dependencies"] if isinstance(d, str))
    python = conda.pop("python")
    conda.pop("pip")
    assert conda == wanted
    assert python == PROJECT["requires-python"]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip_section


def test_jupyter_is_an_extra_not_a_runtime_dependency():
    runtime = {normalise(Requirement(r).name) for r in PROJECT["dependencies"]}
    assert not runtime & {"jupyter", "jupyterlab", "notebook"}, runtime
    assert "jupyterlab" in {normalise(Requirement(r).name) for r in PROJECT["optional-dependencies"]["jupyter"]}


# ---- what the notebooks import, found by parsing their code cells ----------------------------------------------


def _python(source: str) -> str:
    """A code cell's source with IPython's magics and shell escapes (``%pip …``, ``!ls``) made ``pass``."""
    lines = source.splitlines()
    return "\n".join(line[: len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith(("%", "!")) else line
                     for line in lines)


def _imports(tree: ast.AST, found: dict[str, set[str]]) -> None:
    """Add the absolute imports of ``tree`` to ``found``: module -> the names imported from it."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.setdefault(alias.name, set())
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module != "__future__":
            found.setdefault(node.module, set()).update(a.name for a in node.names if a.name != "*")


def notebook_imports() -> dict[str, set[str]]:
    """Every module the notebooks import (in any code cell, at any depth), with the names imported from it."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                _imports(ast.parse(_python("".join(cell["source"])), str(path)), found)
    return found


def aeutils_imports() -> dict[str, set[str]]:
    """Every absolute import in aeutils (inside functions too), the harness aside."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "aeutils").rglob("*.py")):
        if path.name not in HARNESS_ONLY:
            _imports(ast.parse(path.read_text(), str(path)), found)
    return found


def test_notebook_imports_are_found():
    imports = notebook_imports()
    assert {"keras", "numpy", "aeutils.notebook", "aeutils.widgets", "sklearn.decomposition"} <= set(imports)
    assert "q1" in imports["aeutils.exercises.nb01"]


def _third_party(modules) -> set[str]:
    tops = {m.partition(".")[0] for m in modules}
    return {t for t in tops if t not in sys.stdlib_module_names and t != "aeutils"}


def test_runtime_dependencies_are_what_the_notebooks_and_aeutils_import():
    """Each third-party module imported is provided by a runtime dependency, and each runtime dependency is imported
    (a dev or harness package that a notebook needed would fail here; so would a dependency nothing uses)."""
    runtime = {normalise(Requirement(r).name) for r in PROJECT["dependencies"]}
    providers = {m: {normalise(d) for d in ds} for m, ds in metadata.packages_distributions().items()}
    imported = _third_party(notebook_imports()) | _third_party(aeutils_imports())
    missing = {m: sorted(providers.get(m, {"<not installed>"})) for m in imported
               if not providers.get(m, set()) & runtime}
    assert not missing, f"imported but not provided by a runtime dependency: {missing}"
    unused = runtime - {d for m in imported for d in providers[m]}
    assert not unused, f"runtime dependencies that nothing imports: {unused}"


# ---- the wheel, installed on top of the runtime dependencies alone -----------------------------------------------

CHILD = textwrap.dedent('''
    """Import what the notebooks import, with every module outside the allowed distributions blocked."""
    import importlib, importlib.abc, importlib.machinery, importlib.resources, json, os, sys, sysconfig

    spec = json.loads(open(sys.argv[1]).read())
    allowed, blocked = set(spec["allowed"]), set()
    stdlib = [sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")]
    stdlib += [os.path.join(p, "lib-dynload") for p in stdlib]

    def in_stdlib(top):  # also the private modules that sys.stdlib_module_names leaves out (_sysconfigdata_…)
        return top in sys.stdlib_module_names or importlib.machinery.PathFinder.find_spec(top, stdlib) is not None

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            top = name.partition(".")[0]
            if spec["block"] and top not in allowed and not in_stdlib(top):
                blocked.add(top)
                raise ModuleNotFoundError(f"{top} is not provided by a runtime dependency", name=name)
            return None

    sys.meta_path.insert(0, Block())
    failures = {}
    for module, names in sorted(spec["imports"].items()):
        try:
            loaded = importlib.import_module(module)
            for name in names:
                if not hasattr(loaded, name):
                    importlib.import_module(f"{module}.{name}")
        except Exception as error:
            failures[module] = f"{type(error).__name__}: {error}"
    import aeutils

    weights = importlib.resources.files("aeutils") / "weights" / "fashion_classifier.keras"
    print(json.dumps({"failures": failures, "blocked": sorted(blocked), "aeutils": aeutils.__file__,
                      "version": aeutils.__version__, "weights": weights.is_file()}))
''')


def _closure(requirements: list[str]) -> set[str]:
    """The installed distributions that ``requirements`` need, recursively (markers evaluated, extras followed)."""
    seen: set[str] = set()
    todo = [(Requirement(r), "") for r in requirements]
    while todo:
        req, extra = todo.pop()
        if req.marker and not req.marker.evaluate({"extra": extra}):
            continue
        name = normalise(req.name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # not needed on this platform, or optional; the import below tells
        key = name + "[" + ",".join(sorted(req.extras)) + "]"
        if key in seen:
            continue
        seen.add(key)
        for sub in dist.requires or []:
            todo += [(Requirement(sub), e) for e in ("", *req.extras)]
    return {k.partition("[")[0] for k in seen}


def build_wheel(tmp_path: Path) -> Path:
    """The wheel of a copy of the package's sources (the working tree's build/ and egg-info stay untouched)."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "aeutils", src / "aeutils", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"),
                           str(src)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = (tmp_path / "dist").glob("aeutils-*.whl")
    return wheel


def import_in(python: Path, tmp_path: Path, block: bool) -> dict:
    allowed = {"aeutils"}
    if block:
        dists = _closure(PROJECT["dependencies"])
        allowed |= {m for m, ds in metadata.packages_distributions().items() if {normalise(d) for d in ds} & dists}
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"allowed": sorted(allowed), "block": block,
                                "imports": {m: sorted(n) for m, n in notebook_imports().items()}}))
    (tmp_path / "child.py").write_text(CHILD)
    done = subprocess.run([str(python), "-I", str(tmp_path / "child.py"), str(spec)], cwd=tmp_path,
                          capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert done.returncode == 0, done.stderr[-3000:]
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "allowed": sorted(allowed)}


def check_import_report(report: dict, venv: Path) -> None:
    from aeutils import __version__

    assert not report["failures"], report["failures"]
    assert Path(report["aeutils"]).is_relative_to(venv), f"aeutils came from {report['aeutils']}, not the wheel"
    assert report["version"] == __version__ and report["weights"], report


def test_wheel_imports_what_the_notebooks_import_on_the_runtime_dependencies_alone(tmp_path):
    """The wheel goes into a virtual environment that sees this machine's packages (no download), and every module
    outside the runtime dependencies and what they require (pytest, nbmake, papermill, jupyter, …) is blocked."""
    start = time.perf_counter()
    wheel = build_wheel(tmp_path)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True)
    report = import_in(python, tmp_path, block=True)
    check_import_report(report, venv)
    assert not {"pytest", "nbmake", "papermill", "nbformat", "jupyterlab"} & set(report["allowed"]), "blocks nothing"
    print(f"wheel test: {time.perf_counter() - start:.1f} s; blocked optional imports: {report['blocked']}")


@pytest.mark.registry
def test_wheel_in_a_fresh_virtual_environment(tmp_path):
    """The same, in a virtual environment that sees nothing of this machine: pip installs the runtime dependencies
    from the registries (about a gigabyte with TensorFlow), so CI skips it (pyproject.toml: addopts)."""
    wheel = build_wheel(tmp_path)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", str(wheel)], check=True)
    check_import_report(import_in(python, tmp_path, block=False), venv)


@pytest.mark.registry
def test_widgets_at_the_ipywidgets_and_ipython_lower_bounds(tmp_path):
    """Colab long shipped ipywidgets 7.7: the widget tests pass with ipywidgets and IPython at their lower bounds."""
    bounds = {normalise(Requirement(r).name): Requirement(r) for r in PROJECT["dependencies"]}
    pins = [f"{name}=={str(bounds[name].specifier).removeprefix('>=')}" for name in ("ipywidgets", "ipython")]
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", *pins], check=True)
    tests = ["tests/test_widgets_and_plotting.py", "tests/test_notebook_setup.py"]
    done = subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
    versions = subprocess.run([str(python), "-c", "import ipywidgets, IPython; print(ipywidgets.__version__, "
                               "IPython.__version__)"], capture_output=True, text=True, check=True).stdout.split()
    assert [Version(v) for v in versions] == [Version(p.partition("==")[2]) for p in pins], versions

"""The shape of the library: small functions, no import cycle, and no setting that nothing reads."""
import ast, dataclasses, re
from pathlib import Path
from vgs_study.config import Config

PKG = Path(__file__).resolve().parents[1] / "vgs_study"
MODULES = {p.stem: p for p in PKG.glob("*.py") if not p.stem.startswith("_")}


def test_no_function_is_longer_than_60_lines():
    long = []
    for name, p in MODULES.items():
        for n in ast.walk(ast.parse(p.read_text())):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > 60:
                long.append(f"{name}.{n.name}: {n.end_lineno - n.lineno + 1} lines")
    assert not long, long


def _imports(p: Path) -> set:
    "vgs_study modules imported anywhere in the file (module level and inside functions)."
    out = set()
    for n in ast.walk(ast.parse(p.read_text())):
        if isinstance(n, ast.ImportFrom):
            if n.level == 1 and n.module: out.add(n.module.split(".")[0])
            elif n.module and n.module.startswith("vgs_study."): out.add(n.module.split(".")[1])
            elif n.module == "vgs_study": out |= {a.name for a in n.names if a.name in MODULES}
        elif isinstance(n, ast.Import):
            out |= {a.name.split(".")[1] for a in n.names if a.name.startswith("vgs_study.")}
    return out & set(MODULES)


def test_the_import_graph_has_no_cycle():
    graph = {m: _imports(p) - {m} for m, p in MODULES.items()}
    state = {}
    def visit(m, path):
        if state.get(m) == "done": return
        assert state.get(m) != "open", "import cycle: " + " -> ".join(path + [m])
        state[m] = "open"
        for d in sorted(graph[m]): visit(d, path + [m])
        state[m] = "done"
    for m in sorted(graph): visit(m, [])
    assert graph["config"] == set() and "train" not in graph["evaluate"]


def test_every_setting_is_read_by_the_code():
    "A setting nobody reads is a promise the code does not keep (the config module itself does not count)."
    code = "\n".join(p.read_text() for n, p in MODULES.items() if n != "config")
    unread = []
    for section in ("model", "data", "train", "eval", "study"):
        for f in dataclasses.fields(type(getattr(Config(), section))):
            if not re.search(rf"\b{f.name}\b", code): unread.append(f"{section}.{f.name}")
    assert not unread, unread


NBS = Path(__file__).resolve().parents[1] / "nbs"


def _cells(nb_path):
    import json
    return [(c["cell_type"], "".join(c["source"])) for c in json.loads(nb_path.read_text())["cells"]]


def test_notebooks_are_at_least_one_third_prose():
    "Non-blank lines of Markdown against code, over every notebook in nbs/."
    lines = {"markdown": 0, "code": 0}
    for nb in NBS.glob("*.ipynb"):
        for kind, src in _cells(nb): lines[kind] += sum(1 for l in src.splitlines() if l.strip())
    assert 3 * lines["markdown"] >= lines["code"], lines


def test_every_library_notebook_runs_an_example():
    "A code cell that is neither exported, nor only imports, nor left out of execution (`#| eval: false`)."
    is_import = lambda l: re.match(r"^(import |from \S+ import )", l) or not l.strip()
    without = []
    for nb in sorted(NBS.glob("[0-9]*.ipynb")):
        examples = [s for k, s in _cells(nb) if k == "code" and not s.startswith("#|")
                    and not re.search(r"^#\|\s*eval:\s*false", s, re.M) and not all(map(is_import, s.splitlines()))]
        if not examples: without.append(nb.name)
    assert not without, without


def _code_strings(p: Path) -> list[str]:
    "The string constants of a module's code, docstrings left out (prose may name a file)."
    tree = ast.parse(p.read_text())
    docs = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and id(n) not in docs]


def test_run_and_study_files_are_named_in_one_module():
    "A run's and a study's file names are spelled out in code by `RunDir` and `StudyDir` (checkpoint.py) only."
    names = ["done.json", "evaluated.json", "run.json", "status.json", "wall.json", "slurm_jobs.json", "abx_items.json",
             ".jsonl", "config.json"]
    found = []
    for name, p in MODULES.items():
        if name == "checkpoint": continue
        for s in _code_strings(p):
            if name == "w2v2" and "config.json" in s: continue          # a HuggingFace model folder's file
            if any(n in s for n in names) or s.endswith("epoch_"): found.append(f"{name}: {s!r}")
    assert not found, found
    named = " ".join(_code_strings(MODULES["checkpoint"]))
    assert all(n in named for n in names if n != ".jsonl") and "epoch_" in named


def test_the_report_only_renders():
    "report.py draws and writes: it reads no study folder and computes no statistic (those are the analysis's)."
    assert not _imports(MODULES["report"]) & {"results", "findings", "analysis", "stats", "sharing"}
    source = MODULES["report"].read_text()
    assert "StudyDir" not in source and "Evidence" not in source

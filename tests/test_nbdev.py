"""The notebooks are the source: exporting them reproduces the library exactly, and they are committed clean."""
import shutil, subprocess, sys
from pathlib import Path
import nbformat

ROOT = Path(__file__).resolve().parents[1]


def test_nbdev_export_leaves_the_library_unchanged(tmp_path):
    for p in ("nbs", "vgs_study", "settings.ini", "setup.py", "README.md", "pyproject.toml"):
        src = ROOT / p
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / p)
    for f in (tmp_path / "vgs_study").glob("*.py"):
        if f.name != "__init__.py": f.unlink()
    r = subprocess.run([str(Path(sys.executable).parent / "nbdev_export")], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for f in sorted((ROOT / "vgs_study").glob("*.py")):
        assert (tmp_path / "vgs_study" / f.name).read_text() == f.read_text(), f"{f.name} is out of sync with nbs/"


def test_notebooks_are_clean_and_keep_papermill_tags():
    for nb_path in sorted((ROOT / "nbs").glob("*.ipynb")):
        nb = nbformat.read(nb_path, 4)
        for c in nb.cells:
            if c.cell_type == "code":
                assert not c.get("outputs") and c.get("execution_count") is None, nb_path.name
    for name in ("run_scenario", "evaluate_run", "study_analysis"):
        nb = nbformat.read(ROOT / "nbs" / f"{name}.ipynb", 4)
        assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells), name


def test_papermill_reads_every_parameter_with_its_help(caplog):
    "papermill's own reader finds every assignment of a parameters cell (a line with two '=' is skipped, with a warning)."
    import ast
    from papermill.translators import PythonTranslator
    for name in ("run_scenario", "evaluate_run", "study_analysis"):
        nb = nbformat.read(ROOT / "nbs" / f"{name}.ipynb", 4)
        cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        assigned = [t.id for node in ast.parse(cell.source).body for t in node.targets]
        with caplog.at_level("WARNING", logger="papermill"):
            found = [p.name for p in PythonTranslator.inspect(cell)]
        assert found == assigned and not caplog.records, (name, found, [r.message for r in caplog.records])


def test_notebooks_are_stored_as_jupyterlab_writes_them():
    "Opening and saving a notebook in JupyterLab changes nothing: nbformat's layout, and the metadata the kernel reports."
    from jupyter_client.kernelspec import KernelSpecManager
    display = KernelSpecManager().get_kernel_spec("python3").display_name
    for nb_path in sorted((ROOT / "nbs").glob("*.ipynb")):
        text = nb_path.read_text()
        nb = nbformat.reads(text, 4)
        assert nbformat.writes(nb) + "\n" == text, f"{nb_path.name} is not laid out as nbformat writes it"
        assert nb.metadata.kernelspec == {"display_name": display, "language": "python", "name": "python3"}, nb_path.name
        assert nb.metadata.language_info.name == "python" and nb.metadata.language_info.pygments_lexer == "ipython3"

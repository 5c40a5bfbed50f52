"""The docs site builds offline from the notebooks, with every page and an API entry for every exported symbol."""
import re
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("mkdocs")
    from vgs_study.docs import build_docs
    return build_docs(tmp_path_factory.mktemp("site") / "site", root=ROOT)


def test_every_page_exists(site):
    for p in ("index", "quickstart", "study", "schedules", "metrics", "realdata", "corpus"):
        assert (site / f"{p}.html").exists(), p
    assert "<audio controls" in (site / "corpus.html").read_text()
    assert (site / "figures/schedules.png").stat().st_size > 5000
    nav = (site / "index.html").read_text()
    for label in ("Quick start", "The study", "Write your own schedule", "Add a metric", "Real data and GPUs", "API reference"):
        assert label in nav
    for nb in sorted((ROOT / "nbs").glob("[0-9]*.ipynb")):                   # every library notebook has its page
        assert (site / "api" / f"{nb.stem}.html").exists(), nb.name
    assert "asked for:" in (site / "api/15_prepare.html").read_text()   # executed examples


def test_every_exported_symbol_has_an_api_entry(site):
    from vgs_study._modidx import d
    missing = []
    for module, syms in d["syms"].items():
        if module == "vgs_study.__main__": continue
        files = list((site / "api").glob("*.html"))
        html = "\n".join(f.read_text() for f in files if f.stem.split("_", 1)[1] == module.split(".")[-1])
        for name in syms:
            short = name.split(".")[-1]
            if "." in name.replace(module + ".", "") or short.startswith("_"): continue     # methods are shown with their class
            if not re.search(rf'id="{re.escape(short.lower())}"', html): missing.append(name)
    assert not missing, missing
    undocumented = [f.name for f in (site / "api").glob("*.html") if "Call self as a function" in f.read_text()]
    assert not undocumented, f"exported functions without a docstring on {undocumented}"


def test_a_crawl_of_the_site_finds_no_broken_link_placeholder_or_residue(site):
    "Every internal link and image resolves; no link goes to nbdev's placeholder host; no show_doc call is left as text."
    from urllib.parse import urlsplit, unquote
    pages = sorted(site.rglob("*.html"))
    broken, placeholder, residue, internal = [], [], [], 0
    for page in pages:
        html = page.read_text()
        if "show_doc(" in re.sub(r"<[^>]+>", "", html): residue.append(page.name)
        for url in re.findall(r'(?:href|src)="([^"]+)"', html):
            parts = urlsplit(url)
            if parts.netloc:
                if "example.org" in parts.netloc: placeholder.append(f"{page.relative_to(site)} -> {url}")
                continue
            if parts.scheme or not parts.path: continue                       # mailto:, data:, javascript:, #anchor
            internal += 1
            path = unquote(parts.path)
            target = site / path.lstrip("/") if path.startswith("/") else page.parent / path    # 404.html: from the root
            if not target.resolve().exists(): broken.append(f"{page.relative_to(site)} -> {url}")
    print(f"crawled {len(pages)} pages, {internal} internal links and images")
    assert len(pages) > 25 and internal > 500
    assert not broken and not placeholder and not residue, (broken[:10], placeholder[:10], residue)


def test_what_an_example_logs_lands_in_its_cell_not_in_the_build_log(tmp_path):
    "The `docs` command's own log handler must not catch the examples' log lines (they printed as ERROR in the build)."
    import io, logging, nbformat
    from vgs_study.docs import executed_notebooks
    (tmp_path / "nbs").mkdir()
    code = 'import logging\nlogging.getLogger("vgs_study.x").warning("a warning")\nlogging.getLogger("vgs_study.x").info("info")'
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]), tmp_path / "nbs/01_x.ipynb")
    terminal, root = io.StringIO(), logging.getLogger()
    handler, level = logging.StreamHandler(terminal), root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try: out = executed_notebooks(tmp_path, tmp_path / "executed")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    cell = nbformat.read(out / "01_x.ipynb", 4).cells[0]
    text = "".join(o.get("text", "") for o in cell.outputs)
    assert terminal.getvalue() == "" and "a warning" in text and "info" not in text      # as a new kernel shows it
    assert root.handlers.count(handler) == 0 and root.level == level

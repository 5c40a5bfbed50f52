import json, os, shutil
from pathlib import Path
import pytest, torch

torch.set_num_threads(2)


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory):
    "The tiny preset's corpus, generated once per test session."
    from vgs_study.corpus import generate_corpus
    root = tmp_path_factory.mktemp("corpus") / "tiny"
    generate_corpus(root, "tiny", seed=0, workers=2, progress=False)
    return root


@pytest.fixture
def tiny_cfg(tiny_corpus):
    from vgs_study.config import preset
    cfg = preset("tiny")
    cfg.data.root = str(tiny_corpus)
    return cfg


@pytest.fixture
def corpus_copy(tiny_corpus, tmp_path):
    "A private copy of the tiny corpus that a test may damage."
    dst = tmp_path / "corpus"
    shutil.copytree(tiny_corpus, dst)
    return dst


# ----- the commands of README.md and of the docs' quick-start page, as a user types them -----
import re, subprocess, sys
ROOT = Path(__file__).resolve().parents[1]
NOT_RUN = "<!-- not run by the tests"


def documented_commands(text: str) -> list[str]:
    "Shell commands of every ```bash block, continuation lines joined; blocks after a `<!-- not run by the tests` note are left out."
    out = []
    for m in re.finditer(r"(<!--[^>]*-->\s*)?```bash\n(.*?)```", text, re.S):
        if m.group(1) and NOT_RUN in m.group(1): continue
        out += [c.strip() for c in m.group(2).replace("\\\n", " ").splitlines() if c.strip() and not c.strip().startswith("#")]
    return out


def as_tested(cmd: str) -> str:
    "The command with this environment's interpreter instead of a fresh .venv, and the tiny preset for the default one."
    bindir = str(Path(sys.executable).parent)
    for setup in ('python3 -m venv .venv && .venv/bin/pip install -e ".[test]" && ', '.venv/bin/pip install -e ".[docs]" && '):
        cmd = cmd.replace(setup, "")
    return re.sub(r"(?<![\w/]).venv/bin/", bindir + "/", cmd).replace("--preset default", "--preset tiny")


@pytest.fixture(scope="session")
def repo_copy(tmp_path_factory):
    "The working tree in a temporary folder (a git repository of its own), where documented commands may write."
    dst = tmp_path_factory.mktemp("repo") / "vgs_study"
    ignore = shutil.ignore_patterns(".venv", ".git", "runs", "data", "site", "_docs*", "_proc", "__pycache__", "*.egg-info",
                                    ".whl", ".grid", ".device")
    shutil.copytree(ROOT, dst, ignore=ignore)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    for c in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "copy"]):
        subprocess.run(c, cwd=dst, check=True, env=env, capture_output=True)
    return dst


def run_documented(cmd: str, cwd: Path, timeout=900):
    "Run a documented command in `cwd` (a repository copy) with that copy's package first on the path."
    env = {**os.environ, "PYTHONPATH": str(cwd), "OMP_NUM_THREADS": "2"}
    return subprocess.run(as_tested(cmd), shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)

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

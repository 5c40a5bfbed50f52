"""Fault injection: SIGKILL at chosen points of corpus generation, training, evaluation and the study runner, then
the same command again. The final artefacts must equal those of an uninterrupted run."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest, torch

PY = [sys.executable, "-m", "vgs_study"]


def kill_after(cmd, delay=None, until=None, timeout=180):
    "Start cmd; SIGKILL it `delay` seconds after `until` exists (or after start). Returns True if it was killed."
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while until is not None and not Path(until).exists() and p.poll() is None and time.time() - t0 < timeout: time.sleep(0.02)
    time.sleep(delay or 0)
    killed = p.poll() is None
    if killed: p.send_signal(signal.SIGKILL)
    p.wait()
    return killed


def tree_bytes(root, skip=()):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(Path(root).rglob("*"))
            if p.is_file() and not any(s in p.name for s in skip)}


@pytest.fixture(scope="module")
def small_cfg(tmp_path_factory):
    from vgs_study.config import preset
    cfg = preset("tiny")
    cfg.data.n_train_images, cfg.data.n_val_images, cfg.data.n_test_images, cfg.data.n_abx_utterances = 50, 2, 6, 12
    cfg.train.epochs, cfg.train.switch_epoch, cfg.train.checkpoint_every_steps = 2, 1, 4
    cfg.eval.val_recall_every = 0
    d = tmp_path_factory.mktemp("faults")
    cfg.to_json(d / "cfg.json")
    return cfg, d


@pytest.mark.parametrize("delay", [0.5, 1.2, 2.0])
def test_corpus_generation_killed(small_cfg, tmp_path, delay):
    cfg, d = small_cfg
    ref = d / "corpus_ref"
    if not ref.exists(): subprocess.run(PY + ["corpus", "--config", str(d / "cfg.json"), "--out", str(ref)], check=True, capture_output=True)
    cmd = PY + ["corpus", "--config", str(d / "cfg.json"), "--out", str(tmp_path / "c")]
    kill_after(cmd, delay)
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    assert tree_bytes(tmp_path / "c", skip=("manifest.json",)) == tree_bytes(ref, skip=("manifest.json",))
    assert json.loads((tmp_path / "c/manifest.json").read_text())["sha256"] == json.loads((ref / "manifest.json").read_text())["sha256"]


@pytest.fixture(scope="module")
def corpus(small_cfg):
    cfg, d = small_cfg
    ref = d / "corpus_ref"
    if not ref.exists(): subprocess.run(PY + ["corpus", "--config", str(d / "cfg.json"), "--out", str(ref)], check=True, capture_output=True)
    return ref


@pytest.fixture(scope="module")
def reference_run(small_cfg, corpus):
    cfg, d = small_cfg
    out = d / "ref_run"
    subprocess.run(PY + ["train", "--config", str(d / "cfg.json"), "--corpus", str(corpus), "--scenario", "(W2V2, VGS+)",
                         "--out", str(out), "--no-progress"], check=True, capture_output=True)
    return out


def weights(p): return torch.load(p, map_location="cpu", weights_only=True)["model"]


@pytest.mark.parametrize("point", ["first checkpoint", "mid epoch 1", "phase B"])
def test_training_killed(small_cfg, corpus, reference_run, tmp_path, point):
    cfg, d = small_cfg
    out = tmp_path / "run"
    cmd = PY + ["train", "--config", str(d / "cfg.json"), "--corpus", str(corpus), "--scenario", "(W2V2, VGS+)", "--out", str(out), "--no-progress"]
    until, delay = {"first checkpoint": (out / "checkpoints/last.pt", 0.0),
                    "mid epoch 1": (out / "checkpoints/last.pt", 0.8),
                    "phase B": (out / "checkpoints/epoch_001.pt", 0.5)}[point]
    assert kill_after(cmd, delay, until)
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    a, b = weights(reference_run / "checkpoints/epoch_002.pt"), weights(out / "checkpoints/epoch_002.pt")
    assert all(torch.equal(a[k], b[k]) for k in a)
    strip = lambda p: [{k: v for k, v in json.loads(l).items() if "per_second" not in k and k != "seconds"}
                       for l in Path(p).read_text().splitlines()]
    assert strip(out / "metrics.jsonl") == strip(reference_run / "metrics.jsonl")
    assert strip(out / "epochs.jsonl") == strip(reference_run / "epochs.jsonl")


@pytest.mark.parametrize("delay", [1.0, 4.0])
def test_evaluation_killed(small_cfg, corpus, reference_run, tmp_path, delay):
    import shutil
    cfg, d = small_cfg
    ref_eval = d / "ref_eval"
    if not ref_eval.exists():
        shutil.copytree(reference_run, ref_eval)
        subprocess.run(PY + ["evaluate", "--run", str(ref_eval), "--corpus", str(corpus), "--no-progress"], check=True, capture_output=True)
    run = tmp_path / "run"; shutil.copytree(reference_run, run)
    cmd = PY + ["evaluate", "--run", str(run), "--corpus", str(corpus), "--no-progress"]
    kill_after(cmd, delay)
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    for f in ("recall.csv", "abx.csv", "evaluated.json"):
        assert (run / f).read_text() == (ref_eval / f).read_text(), f


@pytest.mark.parametrize("delay", [6.0, 20.0])
def test_study_runner_killed(small_cfg, corpus, tmp_path, delay):
    cfg, d = small_cfg
    args = ["study", "--preset", "tiny", "--corpus", str(corpus), "--scenarios", "VGS", "(VGS, W2V2)", "--no-papermill",
            "--no-progress", "--set", "train.epochs=2", "--set", "train.switch_epoch=1", "--set", "eval.val_recall_every=0"]
    ref = d / "ref_study"
    if not ref.exists(): subprocess.run(PY + args + ["--out", str(ref)], check=True, capture_output=True)
    cmd = PY + args + ["--out", str(tmp_path / "s")]
    kill_after(cmd, delay)
    time.sleep(0.5)
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    a = json.loads((ref / "report/results.json").read_text())["scenarios"]
    b = json.loads((tmp_path / "s/report/results.json").read_text())["scenarios"]
    assert a == b

"""The command line, and bad input: every error names the file (and line or id), exits non-zero, loses nothing."""
import json, shutil, subprocess, sys
from pathlib import Path
import numpy as np, pytest, soundfile as sf
from vgs_study.cli import main
from vgs_study.config import load_config
from vgs_study.data import (DataError, load_audio, read_split, read_item_file, ImageFeatures, SpokenCaptionDataset,
                            split_dataset)

SUBCOMMANDS = ["corpus", "train", "evaluate", "abx", "study", "report", "docs", "check-data", "config"]


def test_help_lists_every_subcommand_with_an_example():
    r = subprocess.run([sys.executable, "-m", "vgs_study", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and all(c in r.stdout for c in SUBCOMMANDS)
    for c in SUBCOMMANDS:
        h = subprocess.run([sys.executable, "-m", "vgs_study", c, "--help"], capture_output=True, text=True).stdout
        assert "example:" in h and "vgs-study " + c in h


@pytest.mark.parametrize("case", ["truncated", "empty", "nan", "rate", "stereo", "missing"])
def test_bad_audio_is_named(tmp_path, case):
    p = tmp_path / "x.wav"
    x = np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32)
    if case == "truncated":
        sf.write(p, x, 16000, subtype="PCM_16"); p.write_bytes(p.read_bytes()[:30])
    elif case == "empty": sf.write(p, x[:0], 16000)
    elif case == "nan": x[5] = np.nan; sf.write(p, x, 16000, subtype="FLOAT")
    elif case == "rate": sf.write(p, x, 8000)
    elif case == "stereo": sf.write(p, np.stack([x, x], 1), 16000)
    msg = {"truncated": "unreadable|empty", "empty": "empty", "nan": "NaN", "rate": "8000 Hz", "stereo": "2 channels",
           "missing": "missing"}[case]
    with pytest.raises(DataError, match=msg) as e: load_audio(p)
    assert str(p) in str(e.value)


def test_malformed_split_json_and_missing_features_are_named(corpus_copy):
    bad = corpus_copy / "train.json"
    bad.write_text(bad.read_text()[:-20])
    with pytest.raises(DataError, match=r"train.json: malformed JSON at line \d+"): read_split(bad)
    d = json.loads((corpus_copy / "test.json").read_text())
    d["data"][3] = {"image": "images/test/ghost_1.png", "caption": d["data"][3]["caption"]}
    (corpus_copy / "test.json").write_text(json.dumps(d))
    with pytest.raises(DataError, match="ghost_1"):
        SpokenCaptionDataset(corpus_copy / "test.json", corpus_copy, ImageFeatures(corpus_copy / "image_features.h5"))
    del d["data"][5]["caption"]["wav"]
    (corpus_copy / "test.json").write_text(json.dumps(d))
    with pytest.raises(DataError, match="entry 5 lacks 'wav'"): read_split(corpus_copy / "test.json")


def test_feature_width_against_the_settings_is_named_before_any_work(corpus_copy, capsys):
    "A features file of another width than model.image_feat_dim: check-data and training name the setting and both widths."
    rc = main(["check-data", str(corpus_copy), "--preset", "tiny", "--set", "model.image_feat_dim=2048"])
    out = capsys.readouterr().out
    assert rc == 1 and "settings against the data: 1" in out
    assert "image_features.h5: region features are 768-dimensional, but model.image_feat_dim=2048" in out
    cfg = load_config("tiny", ["model.image_feat_dim=2048"])
    with pytest.raises(DataError, match="768-dimensional, but model.image_feat_dim=2048; set --set model.image_feat_dim=768"):
        split_dataset(cfg, "train", corpus_copy)


def test_malformed_item_line_is_named(tmp_path):
    p = tmp_path / "a.item"
    p.write_text("#file onset offset #phone prev-phone next-phone speaker\nu1 0.1 0.2 AA B C s\nu1 0.3 AA B C s\n")
    with pytest.raises(DataError, match="a.item: line 3 has 6 fields"): read_item_file(p)
    p.write_text("#file onset offset #phone prev-phone next-phone speaker\nu1 0.5 0.2 AA B C s\n")
    with pytest.raises(DataError, match="line 2: onset 0.5 must be >= 0 and below offset"): read_item_file(p)


def test_check_data_lists_every_problem_at_once(corpus_copy, capsys):
    (corpus_copy / "wavs/train/train_00001_1.wav").unlink()
    sf.write(corpus_copy / "wavs/val/val_00000_0.wav", np.zeros(800, np.float32), 8000)
    (corpus_copy / "wavs/test/test_00002_1.wav").write_bytes(b"RIFF garbage")
    d = json.loads((corpus_copy / "val.json").read_text())
    d["data"][1]["image"] = "images/val/nowhere.png"
    (corpus_copy / "val.json").write_text(json.dumps(d))
    (corpus_copy / "abx/wavs/abx_00003.wav").unlink()
    rc = main(["check-data", str(corpus_copy), "--preset", "tiny"])
    out = capsys.readouterr().out
    assert rc == 1
    for needle in ("missing audio: 1", "train_00001_1.wav", "wrong sample rate: 1", "unreadable audio: 1",
                   "img_id without features: 1", "nowhere", "item file names a missing wav: 1", "abx_00003"):
        assert needle in out, needle
    assert json.loads(out.strip().splitlines()[-1])["n_problems"] == 5


def test_unknown_scenario_and_bad_config_exit_nonzero(tmp_path, tiny_corpus, caplog):
    assert main(["train", "--preset", "tiny", "--corpus", str(tiny_corpus), "--scenario", "(W2V2, XYZ)",
                 "--out", str(tmp_path / "r")]) == 2
    assert "unknown model 'XYZ'" in caplog.text
    assert main(["train", "--preset", "tiny", "--set", "train.nope=1", "--scenario", "VGS", "--out", str(tmp_path / "r")]) == 2


def test_an_unknown_metric_stops_the_study_before_any_work(tmp_path, tiny_corpus, caplog):
    out = tmp_path / "s"
    assert main(["study", "--preset", "tiny", "--corpus", str(tiny_corpus), "--out", str(out), "--scenarios", "VGS",
                 "--set", 'eval.metrics=["recall", "wer"]']) == 2
    assert "unknown metric 'wer'" in caplog.text and "recall, abx" in caplog.text
    assert not (out / "runs").exists()
    assert main(["study", "--preset", "tiny", "--corpus", str(tiny_corpus), "--out", str(out), "--scenarios", "VGS",
                 "--set", f"eval.metrics=[\"{tmp_path}/none.py:m\"]"]) == 2
    assert "none.py: file not found" in caplog.text


def test_disk_full_while_saving_keeps_the_previous_checkpoint(tiny_cfg, tmp_path, monkeypatch):
    import errno, torch
    import vgs_study.train as T
    tiny_cfg.train.epochs = 1; tiny_cfg.eval.val_recall_every = 0
    T.train(tiny_cfg, "VGS", tmp_path / "r", progress=False)
    last = tmp_path / "r/checkpoints/last.pt"
    before = last.read_bytes()
    (tmp_path / "r/done.json").unlink(); tiny_cfg.train.epochs = 2
    def full(obj, f, *a, **k): raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(OSError, match="No space left"): T.train(tiny_cfg, "VGS", tmp_path / "r", progress=False)
    assert last.read_bytes() == before                     # the old checkpoint is intact
    assert not list((tmp_path / "r/checkpoints").glob("*.partial"))             # no half-written file left behind
    monkeypatch.undo()
    T.train(tiny_cfg, "VGS", tmp_path / "r", progress=False)   # and the run resumes from it
    assert (tmp_path / "r/done.json").exists()

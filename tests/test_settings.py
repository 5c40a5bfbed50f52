"""Settings: every bad setting or scenario stops at once with a message that names it (and a close match), before
any work starts and without leaving files behind; `vgs-study config` lists every setting with its meaning."""
import dataclasses, subprocess, sys
from pathlib import Path
import pytest
from vgs_study.config import Config, ConfigError, describe, load_config, preset

PY = [sys.executable, "-m", "vgs_study"]

BAD = [  # (command-line arguments, what the message must name)
    (["--set", "train.epochs=0"], "train.epochs"),
    (["--set", "model.mask_prob=2"], "model.mask_prob"),
    (["--set", "model.audio_pooling=maximum"], "model.audio_pooling"),
    (["--set", "model.vgs_input=both"], "model.vgs_input"),
    (["--set", "model.image_pooling=max"], "model.image_pooling"),
    (["--set", "train.epochs=2", "--set", "train.switch_epoch=2"], "train.switch_epoch"),
    (["--set", "train.nosuch=1"], "train.nosuch"),
    (["--set", "trian.epochs=1"], "trian"),
    (["--scenarios", "(W2V2,VGS"], "(W2V2,VGS"),
    (["--scenarios", "(W2V2, VGG)"], "VGG"),
]


@pytest.mark.parametrize("args, named", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_a_bad_setting_stops_at_once_and_leaves_nothing(tmp_path, args, named):
    out = tmp_path / "study"
    r = subprocess.run(PY + ["study", "--preset", "tiny", "--out", str(out), *args], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and named in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not any(w in r.stderr for w in ("generating the embedded corpus", "study in", "starting")), r.stderr
    assert not out.exists() and not list(tmp_path.iterdir())


def test_a_misspelt_setting_gets_a_suggestion():
    with pytest.raises(ConfigError, match=r"did you mean train.epochs\?"): load_config("tiny", ["train.epoch=3"])
    with pytest.raises(ConfigError, match=r"not one of cls, mean, max.*did you mean max\?"):
        load_config("tiny", ["model.audio_pooling=maxx"]).validate()
    with pytest.raises(ConfigError, match="did you mean default"): preset("defualt")


def test_paths_and_missing_folders_give_plain_messages(tmp_path):
    f = tmp_path / "a_file"; f.write_text("x")
    for args, needle in ((["study", "--preset", "tiny", "--out", str(f)], "is a file"),
                         (["report", "--study", str(tmp_path / "nowhere")], "not a study directory"),
                         (["evaluate", "--run", str(tmp_path / "nowhere")], "nowhere")):
        r = subprocess.run(PY + args, capture_output=True, text=True, timeout=60)
        assert r.returncode != 0 and needle in r.stderr and "Errno" not in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_config_lists_every_setting_with_its_meaning():
    r = subprocess.run(PY + ["config", "--preset", "default", "--set", "train.epochs=8"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if l.startswith("  ") and " = " in l]
    n = sum(len(dataclasses.fields(type(getattr(Config(), s)))) for s in ("model", "data", "train", "eval", "study"))
    assert len(lines) == n and all("    # " in l for l in lines), [l for l in lines if "    # " not in l]
    assert "  train.epochs = 8    # " in r.stdout
    assert describe(preset("paper")).count("\n  ") == n


def test_version():
    import vgs_study
    r = subprocess.run(PY + ["--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == f"vgs_study {vgs_study.__version__}"


def test_presets_are_valid():
    from vgs_study.schedules import validate
    for name in ("tiny", "default", "paper"):
        assert len(validate(preset(name), preset(name).study.scenarios)) == 9

"""The whole study on the tiny preset: papermill notebooks, evaluation, the report; then idempotence."""
import json, math, re, subprocess, sys
from pathlib import Path
import pytest

SCENARIOS = ["W2V2", "VGS", "VGS+", "(W2V2, VGS+)", "(VGS, VGS+)", "(W2V2, VGS)", "(VGS, W2V2)", "(VGS+, W2V2)", "(VGS+, VGS)"]


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory, tiny_corpus):
    from vgs_study.study import run_study
    out = tmp_path_factory.mktemp("study") / "tiny"
    status = run_study("tiny", out, corpus=tiny_corpus, progress=False)
    return out, status


def finite(x):
    if isinstance(x, dict): return all(finite(v) for v in x.values())
    if isinstance(x, (list, tuple)): return all(finite(v) for v in x)
    return not isinstance(x, float) or math.isfinite(x)


def test_all_nine_scenarios_ran_and_were_evaluated(tiny_study):
    out, status = tiny_study
    assert all(v.startswith("done") for v in status.values()), status
    assert len(status) == 18
    for s in SCENARIOS:
        slug = s.replace("(", "").replace(")", "").replace(", ", "-").replace("+", "plus")
        rd = out / "runs/seed1" / slug
        assert (rd / "train.ipynb").exists() and (rd / "evaluate.ipynb").exists()     # the lab record
        assert (rd / "recall.csv").exists() and (rd / "abx.csv").exists()
        run = json.loads((rd / "run.json").read_text())
        assert run["scenario"] == s and run["seed"] == 1 and run["preset"] == "tiny"
        assert re.fullmatch(r"[0-9a-f]{40}", run["git_commit"] or "") and len(run["corpus_sha256"]) == 64
        assert run["packages"]["torch"] and run["started"] <= run["finished"]


def test_report_contents(tiny_study):
    out, _ = tiny_study
    rep = out / "report"
    r = json.loads((rep / "results.json").read_text())
    assert set(r["scenarios"]) == set(SCENARIOS) and r["preset"] == "tiny" and r["seeds"] == [1]
    for name, s in r["scenarios"].items():
        assert set(s["recall"]) == {"speech_to_image", "image_to_speech"}
        assert set(s["recall"]["speech_to_image"]) == {"1", "5", "10"}
        assert set(s["abx"]) == {"within", "across"} and s["abx"]["across"]["layer"] >= 1
        assert s["epochs"] == 2 and finite(s)
    assert len(r["findings"]) == 5 and all(f["holds"] in (True, False) for f in r["findings"])
    assert {c["check"].split()[0] for c in r["learning_checks"]} >= {"W2V2", "VGS"}
    assert r["wall_seconds"] > 0 and finite(r["mfcc_abx"])
    for f in ("fig2_left_abx_vs_layer", "fig2_right_abx_vs_epoch", "fig3_losses", "recall_vs_epoch"):
        assert (rep / f"{f}.png").stat().st_size > 10_000 and (rep / f"{f}.svg").exists()
    html = (rep / "index.html").read_text()
    assert "Table I" in html and "Table II" in html and "Finding 5" in html and "fig3_losses.png" in html
    md = (rep / "tables.md").read_text()
    assert all(s in md for s in SCENARIOS) and (rep / "study_analysis.ipynb").exists()


def test_rerun_skips_finished_work(tiny_study, tiny_corpus):
    from vgs_study.study import run_study
    out, _ = tiny_study
    before = {p: p.stat().st_mtime for p in (out / "runs").rglob("checkpoints/*.pt")}
    status = run_study("tiny", out, corpus=tiny_corpus, progress=False, report=False)
    assert all(v == "done (already)" for v in status.values())
    assert {p: p.stat().st_mtime for p in (out / "runs").rglob("checkpoints/*.pt")} == before


def test_a_failing_scenario_does_not_lose_the_others(tmp_path, tiny_corpus):
    from vgs_study.study import run_study
    out = tmp_path / "s"
    (out / "runs/seed1/VGS/checkpoints").mkdir(parents=True)
    (out / "runs/seed1/VGS/checkpoints/last.pt").write_bytes(b"not a checkpoint")     # a corrupt file
    status = run_study("tiny", out, corpus=tiny_corpus, scenarios=["W2V2", "VGS", "(VGS, W2V2)"],
                       overrides=["train.epochs=1", "train.switch_epoch=1"], use_papermill=False, progress=False)
    assert status["train W2V2 seed 1"] == "done" and status["evaluate W2V2 seed 1"] == "done"
    assert status["train VGS seed 1"] == "failed" and status["train (VGS, W2V2) seed 1"] == "skipped"
    st = json.loads((out / "status.json").read_text())
    assert "not a readable checkpoint" in st["train VGS seed 1"]["error"]
    r = json.loads((out / "report/results.json").read_text())
    assert "W2V2" in r["scenarios"] and "train VGS seed 1" in r["failed_jobs"]

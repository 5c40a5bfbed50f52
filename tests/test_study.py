"""The whole study on the tiny preset: papermill notebooks, evaluation, the report; then idempotence."""
import json, math, re, subprocess, sys
from pathlib import Path
import pytest
from vgs_study.findings import SIDES

SCENARIOS = ["W2V2", "VGS", "VGS+", "(W2V2, VGS+)", "(VGS, VGS+)", "(W2V2, VGS)", "(VGS, W2V2)", "(VGS+, W2V2)", "(VGS+, VGS)"]


@pytest.fixture(scope="module")
def tiny_study(repo_copy):
    "The README's study command, as written but with the tiny preset, in a copy of the repository."
    from conftest import run_documented
    from test_readme import STUDY
    r = run_documented(STUDY, repo_copy, timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = repo_copy / "runs/default"
    status = {k: v["status"] for k, v in json.loads((out / "status.json").read_text()).items()}
    return out, status


def side_of(part) -> str: return part["reads"].split()[0]


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
        assert set(s["recall"]) == {"test", "seen_voices"}                      # held-out and training voices
        assert set(s["recall"]["test"]) == {"speech_to_image", "image_to_speech"}
        assert set(s["recall"]["test"]["speech_to_image"]) == {"1", "5", "10"}
        assert set(s["abx"]) == {"within", "across"} and s["abx"]["across"]["layer"] >= 1
        assert s["epochs"] == 2 and finite(s)
    assert {"recall", "abx"} <= set(r["per_seed"]["VGS"]["1"]["init"])       # the random-initialisation control
    checks = {c["id"]: c for c in r["learning_checks"]}
    assert set(checks) == {"w2v2_ssl", "vgsplus_ssl", "vgs_recall", "vgsplus_recall", "w2v2_abx", "vgs_abx",
                           "w2v2_ssl_switch", "vgs_recall_switch", "vgsplus_recall_switch", "vgsplus_ssl_switch",
                           "switch_epoch"}
    assert all(c["epoch"] == 1 for k, c in checks.items() if k.endswith("_switch"))      # the tiny preset's switch
    assert checks["switch_epoch"]["status"] == "passed" and checks["switch_epoch"]["value"] == 1
    assert r["chance"]["recall_at_10"] < 100 / 3                                 # the tiny preset can pass its checks
    # a finding is only tested when the checks it rests on passed; otherwise it says why not
    assert len(r["findings"]) == 5
    for f in r["findings"]:
        failed = [k for k in f["needs"] if checks[k]["status"] != "passed"]
        assert f["verdict"] == "not testable here"                           # one seed: a reading, not a verdict
        if failed: assert all(k in f["reason"] for k in failed)
        else: assert f["reason"] in ("one seed", "in VGS+, loss_AV reaches a larger share of its decrease by epoch 2 "
                                     "than loss_AUD's contrastive part: missing its loss data for seed(s) 1")
        for p in f["parts"]:                                                  # every part: an effect and its interval
            if "by epoch 2" in p["claim"]:                  # 2 epochs: no epoch inside training to read a share at
                assert p["outcome"] == "not testable here: missing its loss data for seed(s) 1"
                continue
            assert p["low"] <= p["effect"] <= p["high"] and math.isfinite(p["se_items"]) and p["seeds"] == [1]
            assert p["outcome"] == "one seed: a reading, not a verdict" and side_of(p) in SIDES
    assert [len(f["parts"]) for f in r["findings"]] == [9, 4, 4, 2, 4]
    close = r["switch_closeup"]                  # finding 5 at both close-up points, and per layer, against base runs
    assert [set(p["at"]) for p in close["parts"]] == [{"0.25", "0.5"}] * 4 and len(close["by_layer"]) == 4 * 3
    assert r["wall_seconds"] > 0 and finite(r["mfcc_abx"])
    assert set(r["time"]["rows"]) == {f"{s} seed 1" for s in SCENARIOS} | {"total"}
    assert all(v is not None and v > 0 for row in r["time"]["rows"].values() for v in row)
    for f in ("fig2_left_abx_vs_layer", "fig2_right_abx_vs_epoch", "fig3_losses", "recall_vs_epoch", "switch_closeup",
              "cka_between", "cka_rewrite", "cka_within"):
        assert (rep / f"{f}.png").stat().st_size > 10_000 and (rep / f"{f}.svg").exists()
    assert set(r["cka"]["rewrite"]) == {s for s in SCENARIOS if s.startswith("(")}
    assert all(0 <= v <= 1 + 1e-6 for m in r["cka"]["between"]["shared"].values() for v in m.values())
    assert set(r["scenarios"]["VGS"]["word_abx"]) == {"within", "across"}
    html = (rep / "index.html").read_text()
    assert "Table I" in html and "Table II" in html and "Table III" in html and "Finding 5" in html and "fig3_losses.png" in html
    assert "random initialisation (epoch 0)" in html and "chance" in html and "MFCC" in html and "switch after 1" in html
    assert "training voices (seen_voices)" in html and "Provenance" in html and "corpus SHA-256" in html
    assert html.count("Not testable here because") == sum(f["verdict"] == "not testable here" for f in r["findings"])
    md = (rep / "tables.md").read_text()
    assert all(s in md for s in SCENARIOS) and (rep / "study_analysis.ipynb").exists()
    speakers = r["summary"]["speakers"]          # read from the split files: the embedded corpus holds test voices out
    assert speakers["known"] and speakers["shared_speakers"] == 0 and speakers["test_captions_by_training_speakers"] == 0
    assert "(test split: new images, held-out voices)" in md and "ABX set: abx/abx.item." in md


def test_rerun_skips_finished_work(tiny_study):
    from vgs_study.study import run_study
    out, _ = tiny_study
    before = {p: p.stat().st_mtime for p in (out / "runs").rglob("checkpoints/*.pt")}
    status = run_study("tiny", out, progress=False, report=False)
    assert all(v == "done (already)" for v in status.values())
    assert {p: p.stat().st_mtime for p in (out / "runs").rglob("checkpoints/*.pt")} == before


def test_the_time_benchmark_reads_a_finished_study(tiny_study):
    """bench_study.py: the study's 18 jobs by kind with their seconds from status.json (a study that was resumed keeps
    them: its jobs read 'done (already)'), and a real update of each kind."""
    out, _ = tiny_study
    bench = Path(__file__).parent / "benchmarks/bench_study.py"
    r = subprocess.run([sys.executable, str(bench), "--study", str(out), "--updates", "2"], capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    status = json.loads((out / "status.json").read_text())
    seconds = sum(v["seconds"] for k, v in status.items() if k.startswith(("train", "evaluate")))
    total = next(l.split() for l in r.stdout.splitlines() if l.startswith("total"))
    assert total[1] == "18" and abs(float(total[2]) - seconds) <= 1
    kinds = {tuple(l.split()[:3]) for l in r.stdout.splitlines() if l.startswith(("train", "evaluate"))}
    assert {("train", "base", "VGS+"), ("train", "phase", "B"), ("evaluate", "base", "W2V2")} <= kinds
    updates = [l.split() for l in r.stdout.splitlines() if l.split()[:1] in (["W2V2"], ["VGS"], ["VGS+"])]
    assert [u[0] for u in updates] == ["W2V2", "VGS", "VGS+"]
    assert all(float(u[1]) > 0 and float(u[2]) > 0 for u in updates)              # s/update and GFLOP/update
    replays = [l.split() for l in r.stdout.splitlines() if l.split()[:1] in (["1"], ["2"], ["4"], ["8"], ["16"])]
    one_seed, five = replays[:5], replays[5:]
    assert len(five) == 5 and abs(float(one_seed[0][1]) * 60 - seconds) <= 6          # 1 worker: every job in turn
    for w, wall, path, bound in (map(float, row) for row in one_seed + five):
        assert wall >= max(path, bound) - 0.1                                       # bounded by the graph and the work
    assert float(five[0][1]) > 4.5 * float(one_seed[0][1])                          # five seeds, five times the work


def test_a_report_of_a_study_in_progress_leaves_out_unfinished_runs(tiny_study, tmp_path):
    "A run still training or half evaluated must not pass for a finished one: the report names it and leaves it out."
    import shutil
    from vgs_study.study import build_report
    out = tmp_path / "s"
    shutil.copytree(tiny_study[0], out, ignore=shutil.ignore_patterns("*.pt", "corpus", "tensorboard"))
    (out / "runs/seed1/VGSplus/evaluated.json").unlink()                  # evaluation still running
    res = build_report(out, mfcc=False)
    assert res.unfinished_runs == ["VGS+ seed 1"]
    assert "VGS+" not in res.per_seed and "W2V2" in res.per_seed
    assert (out / "report/tables.md").read_text().startswith("Not in this report (training or evaluation not finished): VGS+ seed 1.")
    assert "Not in this report" in (out / "report/index.html").read_text()


def test_a_failing_scenario_does_not_lose_the_others(tmp_path, tiny_corpus):
    from vgs_study.study import run_study
    out = tmp_path / "s"
    (out / "runs/seed1/VGS/checkpoints").mkdir(parents=True)
    (out / "runs/seed1/VGS/checkpoints/last.pt").write_bytes(b"not a checkpoint")     # a corrupt file
    args = dict(corpus=tiny_corpus, scenarios=["W2V2", "VGS", "(VGS, W2V2)"], jobs=2, use_papermill=False, progress=False,
                overrides=["train.epochs=2", "train.switch_epoch=1", "eval.val_recall_every=0"])
    status = run_study("tiny", out, **args)
    assert status["train W2V2 seed 1"] == "done" and status["evaluate W2V2 seed 1"] == "done"
    assert status["train VGS seed 1"] == "failed" and status["train (VGS, W2V2) seed 1"] == "skipped"
    st = json.loads((out / "status.json").read_text())
    assert "not a readable checkpoint" in st["train VGS seed 1"]["error"]
    r = json.loads((out / "report/results.json").read_text())
    assert "W2V2" in r["scenarios"] and "train VGS seed 1" in r["failed_jobs"]
    again = run_study("tiny", out, report=False, **args)      # the same study resumes (2 jobs side by side: 1 thread each)
    assert again["train W2V2 seed 1"] == "done (already)" and again["train VGS seed 1"] == "failed"


WEIGHT_NORM = """
import torch
from vgs_study.evaluate import Metric

def score(model, ctx):
    parts = {"encoder": model.w2v2, "whole model": model}
    return [{"part": k, "norm": float(torch.cat([p.detach().flatten() for p in m.parameters()]).norm())} for k, m in parts.items()]

weight_norm = Metric("weight_norm", ("part",), "norm", score, lambda df: dict(zip(df.part, df.norm)), "Weight norm (L2)")
"""


def test_a_schedule_and_a_metric_from_files_reach_the_report(tmp_path, tiny_corpus):
    """study.schedules names a file of schedules; its names work alone and in (A, B) pairs, in new job processes too.
    eval.metrics names a metric in a file: it is scored for every checkpoint and reaches results.json, the tables, the HTML."""
    f, fm = tmp_path / "my_schedules.py", tmp_path / "my_metrics.py"
    f.write_text("from vgs_study.schedules import LinearRamp, register_schedule\n"
                 "register_schedule('halframp', lambda epochs, switch: LinearRamp(0.0, 0.5, 0, epochs))\n")
    fm.write_text(WEIGHT_NORM)
    out = tmp_path / "s"
    r = subprocess.run([sys.executable, "-m", "vgs_study", "study", "--preset", "tiny", "--out", str(out), "--corpus", str(tiny_corpus),
                        "--scenarios", "halframp", "(halframp, VGS)", "--no-papermill", "--no-progress",
                        "--set", f"study.schedules={f}", "--set", "train.epochs=2", "--set", "eval.val_recall_every=0",
                        "--set", f'eval.metrics=["recall", "abx", "{fm}:weight_norm"]'],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((out / "report/results.json").read_text())
    assert set(res["scenarios"]) == {"halframp", "(halframp, VGS)"}
    alphas = [json.loads(l)["alpha"] for l in (out / "runs/seed1/halframp-VGS/epochs.jsonl").read_text().splitlines()]
    assert alphas == [1.0]                                   # phase B only: VGS after the switch epoch
    base = [json.loads(l)["alpha"] for l in (out / "runs/seed1/halframp/metrics.jsonl").read_text().splitlines()]
    assert 0 <= base[0] < base[-1] <= 0.5                    # the ramp
    assert "(halframp, VGS)" in (out / "report/tables.md").read_text()
    # the metric from the file: one row per part and kept checkpoint, in the run's table and in every output
    rows = (out / "runs/seed1/halframp/weight_norm.csv").read_text().splitlines()
    assert rows[0] == "run,epoch,part,norm" and len(rows) == 1 + 2 * 3          # epochs 0, 1, 2
    for name in ("halframp", "(halframp, VGS)"):
        wn = res["scenarios"][name]["weight_norm"]
        assert 0 < wn["encoder"] < wn["whole model"]
    init = res["per_seed"]["halframp"]["1"]["init"]["weight_norm"]["encoder"]      # epoch 0 of the base run
    assert init != res["scenarios"]["halframp"]["weight_norm"]["encoder"]         # training moved the weights
    assert res["metrics"] == ["recall", "abx", "weight_norm"]
    assert "# Weight norm (L2)" in (out / "report/tables.md").read_text()
    html = (out / "report/index.html").read_text()
    assert "Weight norm (L2)" in html and f"{res['scenarios']['halframp']['weight_norm']['encoder']:.2f}" in html


def test_a_failed_job_skips_its_dependents_only_and_the_status_table_says_so(tmp_path):
    from vgs_study.study import Job, run_jobs, study_status
    changes = []
    def job(name, script, needs=()):
        return Job(name, ["sh", "-c", script.format(done=tmp_path / f"{name}.done")], tmp_path / f"{name}.log",
                   tmp_path / f"{name}.done", list(needs))
    jobs = run_jobs([job("a", "touch {done}"), job("b", "exit 3", ["a"]), job("c", "touch {done}", ["b"]),
                     job("d", "true", ["a"])], progress=False, status_path=tmp_path / "status.json",
                    on_change=lambda: changes.append(1))
    assert [j.status for j in jobs] == ["done", "failed", "skipped", "failed"]     # d exits 0 but writes no marker
    assert len(changes) >= 7                                 # every start and end (the study keeps wall.json current)
    assert "exit code 3" in jobs[1].error and "needs b which failed" in jobs[2].error
    rows = [l.split() for l in study_status(tmp_path).splitlines()]
    assert rows[0] == ["job", "state", "seconds", "log"] and [r[:2] for r in rows[1:]] == [["a", "done"], ["b", "failed"],
                                                                                              ["c", "skipped"], ["d", "failed"]]


def test_ready_training_starts_before_evaluation_and_the_plan_says_which_is_which(tmp_path):
    from vgs_study.study import Job, run_jobs, plan_jobs
    from vgs_study.config import preset
    order = tmp_path / "order.txt"
    def job(name, needs=(), priority=0):
        return Job(name, ["sh", "-c", f"echo {name} >> {order}; touch '{tmp_path / name}.done'"], tmp_path / f"{name}.log",
                   tmp_path / f"{name}.done", list(needs), priority)
    jobs = [job("train A"), job("evaluate A", ["train A"], 1), job("train B"), job("evaluate B", ["train B"], 1),
            job("train C", ["train A"])]
    run_jobs(jobs, workers=1, progress=False)
    assert order.read_text().split("\n")[:-1] == ["train A", "train B", "train C", "evaluate A", "evaluate B"]
    planned = plan_jobs(preset("tiny"), tmp_path / "study", tmp_path / "corpus", [1], ["W2V2", "(W2V2, VGS)"])
    assert {j.name: j.priority for j in planned} == {"train W2V2 seed 1": 0, "evaluate W2V2 seed 1": 1,
                                                     "train (W2V2, VGS) seed 1": 0, "evaluate (W2V2, VGS) seed 1": 1}


def test_analyse_is_a_value_and_render_only_draws_it(tiny_study, tmp_path):
    "The findings come out of `analyse` without a page; `render` writes exactly that value, from anywhere."
    from vgs_study.analysis import StudyResults, analyse
    from vgs_study.report import render
    out, _ = tiny_study
    before = sorted(p.name for p in (out / "report").iterdir())
    results = analyse(out, mfcc=False)
    assert isinstance(results, StudyResults)
    assert sorted(p.name for p in (out / "report").iterdir()) == before        # analysing wrote nothing
    assert [f["id"] for f in results.findings] == [1, 2, 3, 4, 5]
    assert all(f["verdict"] == "not testable here" and f["reason"] for f in results.findings)     # tiny: too small to learn
    kept = results.to_json()
    assert "stats" not in kept and "curves" not in kept and list(kept)[:3] == ["preset", "seeds", "metrics"]
    figs = render(results, tmp_path / "elsewhere")                            # no study folder read
    assert json.loads((tmp_path / "elsewhere/results.json").read_text()) == json.loads(json.dumps(kept, default=float))
    assert {"fig2_left_abx_vs_layer", "switch_closeup"} <= set(figs)
    assert (tmp_path / "elsewhere/tables.md").read_text().startswith("# Table I")

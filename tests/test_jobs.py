"""How many jobs run side by side (`--jobs auto`), what a job's slot and memory are, and the scheduler replay."""
import json, os, subprocess, sys
from pathlib import Path
import pytest
from vgs_study.config import ConfigError, preset
from vgs_study.study import (Job, auto_workers, critical_path, gpu_slots, plan_jobs, replay, run_jobs, usable_cores,
                             _workers)
import vgs_study.study as study_module

CORES = sorted(os.sched_getaffinity(0))


def _auto_from(cores: set) -> str:
    "auto_workers' answer in a process whose affinity allows `cores` only (as taskset or a cpuset would)."
    code = ("import os; os.sched_setaffinity(0, %r); from vgs_study.config import preset; "
            "from vgs_study.study import auto_workers; print(auto_workers(preset('default'), gpus=0)[0])" % (cores,))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_auto_runs_one_job_per_core_this_process_may_use():
    assert _auto_from({CORES[0]}) == "1"
    if len(CORES) >= 2: assert _auto_from(set(CORES[:2])) == "2"
    assert usable_cores() == len(CORES)


def test_auto_is_capped_by_memory_and_says_so(monkeypatch):
    cfg = preset("default")
    cfg.study.job_memory_gb = 2.0
    monkeypatch.setattr(study_module, "usable_cores", lambda: 16)
    monkeypatch.setattr(study_module, "available_memory_gb", lambda: 9.0)
    n, why = auto_workers(cfg, gpus=0)
    assert n == 4 and "capped by memory (9.0 GB for jobs of 2.0 GB)" in why
    monkeypatch.setattr(study_module, "available_memory_gb", lambda: 100.0)
    assert auto_workers(cfg, gpus=0) == (16, "16 job(s) at a time: one per usable core (16)")


def test_auto_shares_each_gpu_and_pins_each_slot_to_one():
    cfg = preset("paper")
    cfg.study.jobs_per_gpu = 3
    n, why = auto_workers(cfg, gpus=2)
    assert n == min(6, int(study_module.available_memory_gb() // cfg.study.job_memory_gb) or 1)
    env = gpu_slots(2)
    assert [env(s)["CUDA_VISIBLE_DEVICES"] for s in range(5)] == ["0", "1", "0", "1", "0"]


@pytest.mark.parametrize("bad", ["0", "-2", "many", "1.5"])
def test_a_number_of_jobs_that_is_not_one_is_refused(bad):
    with pytest.raises(ConfigError, match="--jobs"): _workers(bad, preset("tiny"), 0)
    assert _workers("3", preset("tiny"), 0)[0] == 3


def _toy(tmp: Path, name: str, needs=()) -> Job:
    done = tmp / f"{name}.done"
    code = (f"import os, time; open({str(done)!r}, 'w').write(os.environ['SLOT']); x = b'x' * (60 * 2**20); "
            "time.sleep(1.5)")
    return Job(name, [sys.executable, "-c", code], tmp / f"{name}.log", done, list(needs))


def test_jobs_run_in_slots_and_record_their_peak_memory(tmp_path):
    jobs = [_toy(tmp_path, "a"), _toy(tmp_path, "b"), _toy(tmp_path, "c", ["a"])]
    status = tmp_path / "status.json"
    run_jobs(jobs, workers=2, progress=False, status_path=status, slot_env=lambda s: {"SLOT": str(s)})
    assert [j.status for j in jobs] == ["done"] * 3
    assert {j.done.read_text() for j in jobs} <= {"0", "1"}
    table = json.loads(status.read_text())
    assert all(60 <= table[j.name]["peak_rss_mb"] < 200 for j in jobs)       # the 60 MB it holds, and little more


def test_a_jobs_memory_is_its_own_not_its_parents():
    "A parent holding 800 MB starts a job holding 60 MB: the job's peak is about 60 MB (ru_maxrss would say 800)."
    from vgs_study.study import _run_measured
    big = b"x" * (800 * 2**20)
    with open(os.devnull, "w") as log:
        code, peak = _run_measured([sys.executable, "-c", "import time; x = b'x' * (60 * 2**20); time.sleep(1.5)"],
                                   log, dict(os.environ), every=0.2)
    assert code == 0 and 60 <= peak < 200 and len(big) == 800 * 2**20


def test_replay_follows_the_graph_and_the_policy():
    "Three chains on two workers, against times worked out by hand; one worker adds up, many reach the critical path."
    jobs = [Job("a", [], Path("a"), Path("a")), Job("b", [], Path("b"), Path("b"), ["a"]),
            Job("c", [], Path("c"), Path("c")), Job("d", [], Path("d"), Path("d"), priority=1)]
    seconds = {"a": 10.0, "b": 5.0, "c": 3.0, "d": 7.0}
    # two workers: a and c start at 0; c ends at 3, then d (priority 1) is the only ready job: 3-10; a ends at 10,
    # b runs 10-15
    assert replay(jobs, seconds, 2) == 15.0
    assert replay(jobs, seconds, 1) == sum(seconds.values())
    assert critical_path(jobs, seconds) == 15.0 and replay(jobs, seconds, 10) == 15.0


def test_replay_of_a_study_is_bounded_by_its_critical_path_and_its_work():
    cfg = preset("default")
    jobs = plan_jobs(cfg, Path("runs/x"), Path("data/x"), [1, 2, 3], cfg.study.scenarios, use_papermill=False)
    seconds = {j.name: 100.0 + 7 * i for i, j in enumerate(jobs)}
    total, path = sum(seconds.values()), critical_path(jobs, seconds)
    walls = [replay(jobs, seconds, w) for w in (1, 2, 4, 8, 16, 64)]
    assert walls[0] == total and walls == sorted(walls, reverse=True)
    assert all(w >= max(path, total / n) - 1e-9 for w, n in zip(walls, (1, 2, 4, 8, 16, 64)))
    assert walls[-1] == path

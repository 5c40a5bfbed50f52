"""The study on a real Slurm cluster: a single-node cluster on this machine (tests/slurm/local_cluster.sh, needs root and
the Debian packages slurmctld, slurmd, slurm-client, munge) runs the tiny study through the slurm executor; a training
job cancelled mid-run is resubmitted by running the command again and resumes; the report equals the local executor's.

    sudo tests/slurm/local_cluster.sh install      # once
    python -m pytest -m slurm tests/test_slurm.py
"""
import json, subprocess, sys, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slurm
VGS = [sys.executable, "-m", "vgs_study"]
ARGS = ["study", "--preset", "tiny", "--no-papermill", "--no-progress"]


@pytest.fixture(scope="module")
def cluster():
    r = subprocess.run([str(ROOT / "tests/slurm/local_cluster.sh"), "start"], capture_output=True, text=True)
    assert r.returncode == 0, f"the local Slurm cluster did not start:\n{r.stdout}\n{r.stderr}"


def record(out: Path) -> dict:
    return json.loads((out / "slurm_jobs.json").read_text())


def wait_for(cond, timeout, what):
    t0 = time.time()
    while not cond():
        assert time.time() - t0 < timeout, f"timed out waiting for {what}"
        time.sleep(2)


def queued(ids) -> set:
    out = subprocess.run(["squeue", "-h", "-o", "%i"], capture_output=True, text=True, check=True).stdout.split()
    return set(out) & set(ids)


def test_tiny_study_on_slurm_resubmits_a_cancelled_job_and_reports_the_local_numbers(cluster, tmp_path):
    local, remote = tmp_path / "local", tmp_path / "slurm"
    t0 = time.time()
    subprocess.run(VGS + ARGS + ["--out", str(local)], check=True, capture_output=True)
    t_local = time.time() - t0

    t0 = time.time()
    r = subprocess.run(VGS + ARGS + ["--out", str(remote), "--corpus", str(local / "corpus"), "--executor", "slurm"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    jobs = record(remote)
    assert len(jobs) == 2 * 9 + 1 and all(j["id"].isdigit() for j in jobs.values())
    assert "train VGS+ seed 1" in r.stdout and jobs["report"]["id"] in r.stdout           # the status table
    # scancel the first training job once it has written its first epoch's checkpoint
    victim = next(n for n in jobs if n.startswith("train"))
    run_dir = Path(jobs[victim]["done"]).parent
    wait_for(lambda: (run_dir / "checkpoints/epoch_001.pt").exists(), 600, f"{victim} to finish epoch 1")
    subprocess.run(["scancel", jobs[victim]["id"]], check=True)
    wait_for(lambda: not queued([jobs[victim]["id"]]), 60, "the cancelled job to leave the queue")
    st = subprocess.run(VGS + ["status", "--study", str(remote)], capture_output=True, text=True, check=True).stdout
    assert any(victim in l and "failed or cancelled" in l for l in st.splitlines()), st

    r = subprocess.run(VGS + ARGS + ["--out", str(remote), "--corpus", str(local / "corpus"), "--executor", "slurm"],
                       capture_output=True, text=True)                                  # the same command again
    assert r.returncode == 0, r.stderr[-2000:]
    again = record(remote)
    assert again[victim]["id"] != jobs[victim]["id"]                                   # resubmitted ...
    done_before = [n for n, j in jobs.items() if Path(j["done"]).exists()]
    assert all(again[n]["id"] == jobs[n]["id"] for n in done_before)                   # ... and nothing finished twice
    wait_for(lambda: (remote / "report/index.html").exists() and not queued([j["id"] for j in record(remote).values()]),
             1500, "the study to finish on Slurm")
    t_slurm = time.time() - t0
    log = (run_dir / "train.log").read_text()
    assert "resum" in log.lower(), log[-2000:]                                          # it resumed, not restarted

    st = subprocess.run(VGS + ["status", "--study", str(remote)], capture_output=True, text=True, check=True).stdout
    assert all(" done " in l or l.startswith("job") for l in st.splitlines()), st
    a = json.loads((local / "report/results.json").read_text())
    b = json.loads((remote / "report/results.json").read_text())
    assert a["scenarios"] == b["scenarios"] and not b["failed_jobs"]
    print(f"\nlocal executor {t_local:.0f} s; slurm executor {t_slurm:.0f} s (with one cancelled and resubmitted job)\n{st}")

"""Where a study's time goes, in one command: the study's own jobs grouped by kind (from its `status.json` and each
run's `epochs.jsonl`), then the real update of each kind on the study's corpus and configuration, in seconds and
GFLOP/s against one core's fp32 peak (`bench_update.py`); and the scheduler replayed on the study's own job times on 1
to 16 workers, for its seeds and for seeds 1..N (`--seeds`), beside the critical path that bounds it.

    python tests/benchmarks/bench_study.py --study runs/default --updates 20

Job kinds: a base run's training (W2V2, VGS, VGS+ from scratch for all epochs), a scheduled run's training (phase B
only, from its base run's checkpoint at the switch; named by what phase B trains), and evaluation (every kept
checkpoint). The time of a job includes its start-up (a kernel through papermill, the corpus, the model); "updates" is
the part spent in the training loop.
"""
import argparse, statistics
from collections import defaultdict
from pathlib import Path
import torch
from vgs_study.config import Config
from vgs_study.model import FaSTVGS, native_bf16
from vgs_study.schedules import Scenario
from vgs_study.train import make_optimizer
from vgs_study.checkpoint import StudyDir
from vgs_study.results import Study, job_times, load_study
from vgs_study.study import critical_path, plan_jobs, replay
from bench_update import batches, core_peak_gflops, flops, seconds_per_update

def kind_of(run: str) -> str:
    "The job kind of a run named as in `results.job_times` ('(VGS, W2V2) seed 2' -> 'phase B W2V2')."
    s = Scenario.parse(run.rsplit(" seed ", 1)[0])
    return f"phase B {s.b}" if s.is_scheduled else f"base {s.name}"


def time_table(study: Study) -> list:
    "Rows (job, kind, jobs, job-seconds, of which updates, mean seconds per job), from `results.job_times`."
    times = job_times({k: v for k, v in study.jobs.items() if v.get("status", "").startswith("done")}, study.epochs)
    rows = defaultdict(lambda: [0, 0.0, 0.0])
    for run, (train, updates, evaluate) in times["rows"].items():
        if run == "total": continue
        for job, seconds in (("train", train), ("evaluate", evaluate)):
            if not seconds: continue
            r = rows[(job, kind_of(run))]
            r[0] += 1
            r[1] += seconds
            r[2] += (updates or 0.0) if job == "train" else 0.0
    return [(job, kind, n, s, u, s / n) for (job, kind), (n, s, u) in sorted(rows.items())]


def projected_seconds(jobs, measured: dict) -> dict:
    """Seconds of every planned job: its measured time where the study ran it, else the mean of the same job of the
    seeds that ran (a seed not yet run takes what the others took)."""
    same = defaultdict(list)
    for name, seconds in measured.items(): same[name.rsplit(" seed ", 1)[0]].append(seconds)
    return {j.name: measured.get(j.name, statistics.mean(same[j.name.rsplit(" seed ", 1)[0]] or [0.0])) for j in jobs}


def replay_table(cfg: Config, study: Study, seeds: list, workers=(1, 2, 4, 8, 16)) -> list:
    "Rows (workers, wall clock s, critical path s, job-seconds / workers) of the study's job graph with `seeds`."
    measured = {k: v["seconds"] for k, v in study.jobs.items() if v.get("status", "").startswith("done")}
    jobs = plan_jobs(cfg, Path("study"), Path("corpus"), seeds, cfg.study.scenarios, use_papermill=False)
    seconds = projected_seconds(jobs, measured)
    path, total = critical_path(jobs, seconds), sum(seconds.values())
    return [(w, replay(jobs, seconds, w), path, total / w) for w in workers]


def real_updates(cfg: Config, corpus: Path, n: int, precision: str) -> list:
    "(update, s/update, GFLOP/update) of W2V2, VGS and VGS+ on the study's first `n` + 2 batches (2 of warm-up)."
    bs, out = batches(cfg, corpus, n + 2), []
    for alpha, name in ((0.0, "W2V2"), (1.0, "VGS"), (0.5, "VGS+")):
        torch.manual_seed(0)
        model = FaSTVGS(cfg.model).train()
        opt = make_optimizer(model, cfg.train)
        gf = statistics.mean(flops(model, b, alpha) for b in bs[2:7]) / 1e9
        out.append((name, seconds_per_update(model, opt, bs, alpha, precision == "bf16"), gf))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--study", required=True, help="a study folder (vgs-study study --out ...)")
    ap.add_argument("--corpus", help="its corpus (default: the study's corpus/, else data.root of its config)")
    ap.add_argument("--updates", type=int, default=20, help="real updates timed per kind (0: the time table only)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seeds", type=int, default=5, help="also replay the study as it would run with seeds 1..N")
    a = ap.parse_args()
    folder = StudyDir(a.study)
    cfg, study = folder.read_config(), load_study(folder.path)
    runs, wall = list(study.runs.values()), study.wall
    print(f"CPU capability {torch.backends.cpu.get_cpu_capability()}, native bf16 {native_bf16('cpu')}, mkldnn bf16 "
          f"{torch.ops.mkldnn._is_mkldnn_bf16_supported()}; the study trained in {sorted({r['precision'] for r in runs})} "
          f"on {sorted({r['cpu_capability'] for r in runs})}" + (f"; wall clock {wall / 60:.1f} min" if wall else ""))
    table = time_table(study)
    total = sum(r[3] for r in table)
    print(f"\n{'job':<9} {'kind':<12} {'jobs':>4} {'job-s':>8} {'updates s':>10} {'s per job':>10} {'share':>6}")
    for job, kind, n, s, u, mean in table:
        print(f"{job:<9} {kind:<12} {n:>4} {s:>8.0f} {u if job == 'train' else float('nan'):>10.0f} {mean:>10.0f} "
              f"{s / total:>6.0%}")
    print(f"{'total':<22} {sum(r[2] for r in table):>4} {total:>8.0f}")
    for seeds in (sorted(study.seeds), list(range(1, a.seeds + 1))):
        print(f"\nthe scheduler replayed on these job times, seeds {seeds} (seeds not run take the others' mean)")
        print(f"{'workers':>7} {'wall min':>9} {'critical path min':>18} {'job-s / workers min':>20}")
        for w, wall, path, bound in replay_table(cfg, study, seeds):
            print(f"{w:>7} {wall / 60:>9.1f} {path / 60:>18.1f} {bound / 60:>20.1f}")
    if a.updates:
        torch.set_num_threads(a.threads)
        corpus = Path(a.corpus) if a.corpus else study.corpus or Path(cfg.data.root)
        prec = sorted({r["precision"] for r in runs})[0] if runs else "fp32"
        peak = core_peak_gflops() * a.threads
        print(f"\nreal updates ({prec}, {a.threads} thread(s), batch {cfg.train.batch_size}, one core's fp32 peak "
              f"{peak:.0f} GFLOP/s)")
        print(f"{'update':<6} {'s/update':>9} {'GFLOP/update':>13} {'GFLOP/s':>8} {'% of peak':>9}")
        for name, s, gf in real_updates(cfg, corpus, a.updates, prec):
            print(f"{name:<6} {s:>9.3f} {gf:>13.2f} {gf / s:>8.1f} {100 * gf / s / peak:>8.0f}%")


if __name__ == "__main__":
    main()

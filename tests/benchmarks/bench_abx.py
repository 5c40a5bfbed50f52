"""ABX benchmark: items/s for 500 / 2,000 / 8,000 items (32-d features, one layer), and seconds per checkpoint for
12 layers of 128-d features on the default corpus's ABX set. Prints a table.

    python tests/benchmarks/bench_abx.py --corpus runs/default/corpus
"""
import argparse, json, time
from pathlib import Path
import numpy as np, torch
from vgs_study.abx import build_task, abx_scores
from vgs_study.data import read_item_file

REFERENCE_8000_ITEMS_SECONDS = 22.0   # public libri-light evaluator, 1 thread, 8,000 items of 32-d features, this machine


def features(items, dim, rate=50.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    n = {}
    for it in items: n[it.file] = max(n.get(it.file, 0), int(it.offset * rate) + 2)
    return {f: torch.randn(t, dim, generator=g) for f, t in n.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", default="runs/default/corpus"); ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    items = read_item_file(Path(a.corpus) / "abx/abx.item")
    rows = []
    for n in (500, 2000, 8000):
        sub = items[:n]
        feats = features(sub, 32)
        t0 = time.perf_counter()
        task = build_task(sub, {k: len(v) for k, v in feats.items()}, 50.0, "libri-light")
        abx_scores(task, {"l": feats})
        dt = time.perf_counter() - t0
        rows.append((f"{len(sub)} items, 1 layer, 32-d", dt, len(sub) / dt))
    feats = features(items, 128)
    layers = {l: {k: v + 0.01 * l for k, v in feats.items()} for l in range(1, 13)}
    t0 = time.perf_counter()
    task = build_task(items, {k: len(v) for k, v in feats.items()}, 50.0, "libri-light")
    abx_scores(task, layers)
    dt = time.perf_counter() - t0
    rows.append((f"{len(items)} items, 12 layers, 128-d (one checkpoint)", dt, 12 * len(items) / dt))
    print(f"threads: {a.threads}")
    print(f"{'case':<50} {'seconds':>9} {'items/s':>10} {'vs reference':>13}")
    ref_rate = 8000 / REFERENCE_8000_ITEMS_SECONDS
    for name, dt, rate in rows:
        print(f"{name:<50} {dt:>9.2f} {rate:>10.0f} {rate / ref_rate:>12.1f}x")
    print(f"reference: libri-light evaluator, 8,000 items in {REFERENCE_8000_ITEMS_SECONDS:.0f} s ({ref_rate:.0f} items/s)")


if __name__ == "__main__":
    main()

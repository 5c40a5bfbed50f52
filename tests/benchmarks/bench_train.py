"""Training and inference throughput per preset (audio seconds per second), fp32 and bf16 autocast, on random audio.
Prints parameter counts per block and a table; medians of repeated steps, measured side by side in one process.

    python tests/benchmarks/bench_train.py --presets tiny default --steps 6
"""
import argparse, statistics, time
import numpy as np, torch
from vgs_study.config import preset
from vgs_study.model import FaSTVGS, parameter_counts


def batch(cfg, B, seconds):
    L = int(seconds * 16000)
    return {"wav": torch.randn(B, L), "wav_lengths": torch.full((B,), L), "feats": torch.randn(B, 16, cfg.model.image_feat_dim),
            "boxes": torch.rand(B, 16, 4), "image": torch.arange(B)}


def step_time(model, b, alpha, bf16, train=True):
    t0 = time.perf_counter()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        if train:
            out = model(b, alpha, rng=np.random.default_rng(0))
            out["loss"].backward(); model.zero_grad(set_to_none=True)
        else:
            with torch.no_grad(): model.layer_outputs(b["wav"])
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--presets", nargs="+", default=["tiny", "default"]); ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    rows = []
    for name in a.presets:
        cfg = preset(name)
        torch.manual_seed(0)
        model = FaSTVGS(cfg.model)
        print(name, {k: round(v, 2) for k, v in parameter_counts(model).items()}, "M parameters")
        B, secs = cfg.train.batch_size, min(cfg.data.max_seconds_train, 3.0)
        b = batch(cfg, B, secs)
        for bf16 in (False, True):
            for alpha, what in ((0.5, "train VGS+ (both losses)"), (0.0, "train W2V2"), (None, "inference, all layers")):
                model.train(alpha is not None)
                ts = [step_time(model, b, alpha, bf16, alpha is not None) for _ in range(a.steps + 1)][1:]
                med = statistics.median(ts)
                rows.append((name, what, "bf16" if bf16 else "fp32", med, B * secs / med))
    print(f"\nthreads: {a.threads}")
    print(f"{'preset':<8} {'what':<26} {'dtype':<5} {'s/step':>8} {'audio-s/s':>10}")
    for r in rows: print(f"{r[0]:<8} {r[1]:<26} {r[2]:<5} {r[3]:>8.3f} {r[4]:>10.1f}")


if __name__ == "__main__":
    main()

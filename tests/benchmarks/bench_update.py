"""Real training updates of a preset on its corpus: seconds per update, audio seconds per second, GFLOP/s and the share
of the core's peak, for W2V2, VGS and VGS+, in fp32 and bf16 autocast. An update is what the trainer does (forward with
the scenario's alpha, backward, gradient clipping, AdamW step) on the corpus' own batches, in the trainer's order.

    python tests/benchmarks/bench_update.py --corpus data/synthetic-default --preset default --updates 30 --threads 1

FLOPs are counted once per batch with torch's FlopCounterMode (forward and backward of matrix products and
convolutions). The peak is one core's fp32 FMA rate: 2 FMA units x (8 lanes with AVX2, 16 with AVX512) x 2 FLOP x the
clock in /proc/cpuinfo; bf16 arithmetic on a CPU with AVX512-BF16 can exceed it.
"""
import argparse, statistics, time
import numpy as np, torch
from torch.utils.flop_counter import FlopCounterMode
from vgs_study.config import preset
from vgs_study.data import ResumableSampler, collate, split_dataset
from vgs_study.model import FaSTVGS, native_bf16
from vgs_study.train import make_optimizer


def core_peak_gflops() -> float:
    "fp32 FMA peak of one core, from the CPU capability and the clock /proc/cpuinfo reports."
    lanes = 16 if torch.backends.cpu.get_cpu_capability().startswith("AVX512") else 8
    try: mhz = max(float(l.split(":")[1]) for l in open("/proc/cpuinfo") if l.startswith("cpu MHz"))
    except (OSError, ValueError): mhz = 2500.0
    return 2 * lanes * 2 * mhz / 1000


def batches(cfg, root, n):
    ds = split_dataset(cfg, "train", root)
    s = ResumableSampler(len(ds), cfg.train.batch_size, seed=1)
    return [collate([ds[i] for i in b]) for b in s.batches()[:n]]


def update(model, opt, b, alpha, bf16, step):
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        out = model(b, alpha, rng=np.random.default_rng(step), updates=step)
    out["loss"].backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)


def seconds_per_update(model, opt, bs, alpha, bf16) -> float:
    "Mean seconds of an update over `bs[2:]`, after two warm-up updates on `bs[:2]`."
    for k, b in enumerate(bs[:2]): update(model, opt, b, alpha, bf16, k)
    t0 = time.perf_counter()
    for k, b in enumerate(bs[2:]): update(model, opt, b, alpha, bf16, k)
    return (time.perf_counter() - t0) / len(bs[2:])


def flops(model, b, alpha):
    with FlopCounterMode(display=False) as fc:
        out = model(b, alpha, rng=np.random.default_rng(0))
        out["loss"].backward()
    model.zero_grad(set_to_none=True)
    return fc.get_total_flops()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--preset", default="default")
    ap.add_argument("--updates", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--precision", nargs="+", default=["fp32", "bf16"])
    ap.add_argument("--set", nargs="*", default=[])
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cfg = preset(a.preset).override(*a.set)
    bs = batches(cfg, a.corpus, a.updates + 2)
    audio = [float(b["wav_lengths"].sum()) / cfg.data.sample_rate for b in bs[2:]]
    peak = core_peak_gflops() * a.threads
    print(f"CPU capability {torch.backends.cpu.get_cpu_capability()}, native bf16 {native_bf16('cpu')}, "
          f"mkldnn bf16 {torch.ops.mkldnn._is_mkldnn_bf16_supported()}, threads {a.threads}, fp32 peak {peak:.0f} GFLOP/s")
    print(f"{a.updates} real batches of {cfg.train.batch_size}: {sum(audio):.0f} s of audio, "
          f"padded to {np.mean([b['wav'].shape[1] for b in bs[2:]]) / cfg.data.sample_rate:.2f} s on average")
    print(f"{'update':<6} {'precision':<9} {'s/update':>9} {'audio-s/s':>10} {'GFLOP/update':>13} {'GFLOP/s':>8} {'% of peak':>9}")
    for alpha, name in ((0.0, "W2V2"), (1.0, "VGS"), (0.5, "VGS+")):
        torch.manual_seed(0)
        model = FaSTVGS(cfg.model).train()
        opt = make_optimizer(model, cfg.train)
        gf = statistics.mean(flops(model, b, alpha) for b in bs[2:7]) / 1e9
        for prec in a.precision:
            s = seconds_per_update(model, opt, bs, alpha, prec == "bf16")
            print(f"{name:<6} {prec:<9} {s:>9.3f} {sum(audio) / (s * len(bs[2:])):>10.1f} {gf:>13.2f} {gf / s:>8.1f} "
                  f"{100 * gf / s / peak:>8.0f}%")


if __name__ == "__main__":
    main()

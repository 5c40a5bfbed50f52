"""This project's training update against HuggingFace's `Wav2Vec2ForPreTraining` at the same encoder configuration,
batch, precision and optimizer (AdamW), in one process with interleaved rounds. Prints audio-seconds per second,
seconds per update, peak memory and the ratios to HF's update, for this project's W2V2 (alpha 0), VGS (alpha 1)
and VGS+ (alpha 0.5) updates.

    python tests/benchmarks/bench_peer.py                                   # CPU, the `default` encoder, batch 8 x 3 s
    python tests/benchmarks/bench_peer.py --preset paper --batch 64 --seconds 5 --device cuda
    python tests/benchmarks/bench_peer.py --with-data data/synthetic-default  # batches read from disk by the project's loader

An update is what the trainer does: forward (autocast when bf16), backward, gradient clipping, optimizer step. HF's
update also draws its span mask and distractors (numpy, on the CPU), as its pre-training example does in its collator.
With --with-data both read the same batches from disk through the project's DataLoader inside the timed loop.
CPU peak memory is each update's peak RSS in a child process of its own; GPU peak memory is torch's allocator peak.
"""
import argparse, json, os, resource, statistics, subprocess, sys, time
from pathlib import Path
import numpy as np, torch
from vgs_study.config import preset
from vgs_study.model import FaSTVGS, native_bf16, pick_precision
from vgs_study.train import make_optimizer

VARIANTS = ("HF W2V2", "W2V2", "VGS", "VGS+")
ALPHA = {"W2V2": 0.0, "VGS": 1.0, "VGS+": 0.5}


def hf_model(m, device):
    from transformers import Wav2Vec2Config, Wav2Vec2ForPreTraining
    c = Wav2Vec2Config(
        conv_dim=[l[0] for l in m.conv_layers], conv_kernel=[l[1] for l in m.conv_layers], conv_stride=[l[2] for l in m.conv_layers],
        conv_bias=m.conv_bias, feat_extract_norm="layer" if m.extractor_mode == "layer_norm" else "group",
        hidden_size=m.embed_dim, num_hidden_layers=m.n_layers, num_attention_heads=m.n_heads, intermediate_size=m.ffn_dim,
        do_stable_layer_norm=m.layer_norm_first, hidden_dropout=m.dropout, attention_dropout=m.attention_dropout,
        activation_dropout=m.activation_dropout, feat_proj_dropout=m.dropout_input, feat_quantizer_dropout=m.dropout_features,
        num_conv_pos_embeddings=m.pos_conv_kernel, num_conv_pos_embedding_groups=m.pos_conv_groups,
        num_codevector_groups=m.codebook_groups, num_codevectors_per_group=m.codebook_size, codevector_dim=m.codevector_dim,
        proj_codevector_dim=m.final_dim, num_negatives=m.num_negatives, mask_time_prob=m.mask_prob,
        mask_time_length=m.mask_length, mask_time_min_masks=m.min_masks, diversity_loss_weight=m.diversity_weight,
        layerdrop=0.0, attn_implementation="sdpa")
    return Wav2Vec2ForPreTraining(c).to(device).train()


def rss_mib():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def random_batches(cfg, B, seconds, n):
    L, F = int(seconds * 16000), cfg.model.image_feat_dim
    g = torch.Generator().manual_seed(0)
    return [{"wav": torch.randn(B, L, generator=g), "wav_lengths": torch.full((B,), L), "feats": torch.randn(B, 36 if F == 2048 else 16, F, generator=g),
             "boxes": torch.rand(B, 36 if F == 2048 else 16, 4, generator=g), "image": torch.arange(B), "index": torch.arange(B)}
            for _ in range(n)]


def data_batches(cfg, root, B, device):
    "An endless iterator of batches read from disk by the project's dataset and DataLoader (as the trainer reads them)."
    from vgs_study.data import split_dataset, collate
    from vgs_study.train import _num_workers
    ds = split_dataset(cfg, "train", root)
    nw = _num_workers(cfg.train, device)
    while True:
        yield from torch.utils.data.DataLoader(ds, batch_size=B, shuffle=True, drop_last=True, collate_fn=collate,
                                               num_workers=nw, pin_memory=device.type == "cuda",
                                               prefetch_factor=4 if nw else None, persistent_workers=nw > 0)


class Runner:
    "One kind of update, ready to run: its model, optimizer and step function."
    def __init__(self, name, cfg, device, bf16):
        self.name, self.device, self.bf16 = name, device, bf16
        torch.manual_seed(0)
        tc = cfg.train; tc.optimizer = "adamw"
        if name == "HF W2V2":
            self.model = hf_model(cfg.model, device)
            self.opt = make_optimizer(self.model, tc, device)
            from transformers.models.wav2vec2.modeling_wav2vec2 import _compute_mask_indices, _sample_negative_indices
            self.mask_fn, self.neg_fn, self.m = _compute_mask_indices, _sample_negative_indices, cfg.model
        else:
            self.model = FaSTVGS(cfg.model).to(device).train()
            self.opt = make_optimizer(self.model, tc, device)
        self.clip, self.updates = tc.grad_clip, 0

    def step(self, b):
        dev, ac = self.device, torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16)
        if self.name == "HF W2V2":
            wav = b["wav"].to(dev, non_blocking=True)
            B, T = wav.shape[0], int(self.model._get_feat_extract_output_lengths(wav.shape[1]))
            mask = self.mask_fn((B, T), self.m.mask_prob, self.m.mask_length, min_masks=self.m.min_masks)
            neg = self.neg_fn((B, T), self.m.num_negatives, mask_time_indices=mask)
            with ac:
                out = self.model(wav, mask_time_indices=torch.from_numpy(mask).to(dev, non_blocking=True),
                                 sampled_negative_indices=torch.from_numpy(neg).to(dev, non_blocking=True))
            loss = out.loss
        else:
            bb = {k: v if k == "wav_lengths" else v.to(dev, non_blocking=True) for k, v in b.items()}
            with ac: loss = self.model(bb, ALPHA[self.name], rng=np.random.default_rng(0), updates=self.updates)["loss"]
            self.updates += 1
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.clip)
        self.opt.step(); self.opt.zero_grad(set_to_none=True)
        return float(b["wav_lengths"].sum()) / 16000


def sync(device):
    if device.type == "cuda": torch.cuda.synchronize()


def measure(runners, batches, rounds, steps, device):
    "Interleaved rounds: each round runs `steps` updates of every runner; returns the median s/update per runner."
    times, audio = {r.name: [] for r in runners}, {r.name: 0.0 for r in runners}
    for r in runners: r.step(next(batches)); r.step(next(batches))                   # warm-up
    for _ in range(rounds):
        for r in runners:
            sync(device); t = time.perf_counter()
            for _ in range(steps): audio[r.name] += r.step(next(batches))
            sync(device); times[r.name].append((time.perf_counter() - t) / steps)
    return {k: statistics.median(v) for k, v in times.items()}, {k: v / (rounds * steps) for k, v in audio.items()}


def cpu_peak_mib(variant, argv):
    "Peak RSS (MiB) of a child process that runs 3 updates of one variant only."
    r = subprocess.run([sys.executable, __file__, *argv, "--only", variant, "--rounds", "1", "--steps", "1", "--json"],
                       capture_output=True, text=True)
    try: return json.loads(r.stdout.strip().splitlines()[-1])["peak_mib"]
    except Exception: return float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="default"); ap.add_argument("--device", default="auto")
    ap.add_argument("--batch", type=int); ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--precision", choices=["bf16", "fp32", "both"], default="both")
    ap.add_argument("--rounds", type=int, default=5); ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2); ap.add_argument("--with-data", metavar="CORPUS")
    ap.add_argument("--deterministic", choices=["on", "off", "both"], default="on",
                    help="torch.use_deterministic_algorithms for this project's updates (the trainer's default is on)")
    ap.add_argument("--only", choices=VARIANTS); ap.add_argument("--json", action="store_true")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    a = ap.parse_args()
    device = torch.device("cuda" if (a.device == "auto" and torch.cuda.is_available()) else ("cpu" if a.device == "auto" else a.device))
    torch.set_num_threads(a.threads)
    cfg = preset(a.preset).override(*a.set)
    if a.with_data and (Path(a.with_data) / "manifest.json").exists():        # the embedded corpus: its layout and features
        import h5py
        cfg.data = preset("default").data
        with h5py.File(Path(a.with_data) / cfg.data.image_features) as f: cfg.model.image_feat_dim = f["features"].shape[-1]
    B = a.batch or cfg.train.batch_size
    if a.with_data: batches = data_batches(cfg, a.with_data, B, device)
    else:
        pool = random_batches(cfg, B, a.seconds, 4)
        batches = (pool[i % len(pool)] for i in range(10**9))
    rows = []
    for prec in (["bf16", "fp32"] if a.precision == "both" else [a.precision]):
        for det in (["on", "off"] if a.deterministic == "both" else [a.deterministic]):
            torch.use_deterministic_algorithms(det == "on", warn_only=True)
            names = [a.only] if a.only else list(VARIANTS)
            runners, peaks = [], {}
            for n in names:                           # GPU: each update's own peak above what the others hold
                if device.type == "cuda": sync(device); base = torch.cuda.memory_allocated(); torch.cuda.reset_peak_memory_stats()
                runners.append(Runner(n, cfg, device, prec == "bf16"))
                if device.type == "cuda":
                    runners[-1].step(next(batches)); runners[-1].step(next(batches)); sync(device)
                    peaks[n] = (torch.cuda.max_memory_allocated() - base) / 2**20
            base = rss_mib()
            med, audio = measure(runners, batches, a.rounds, a.steps, device)
            if a.json:
                print(json.dumps({"peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base})); return
            if device.type != "cuda":                 # CPU: each update's peak RSS in a process of its own
                argv = ["--preset", a.preset, "--device", "cpu", "--precision", prec, "--seconds", str(a.seconds),
                        "--threads", str(a.threads), "--batch", str(B)] + (["--with-data", a.with_data] if a.with_data else [])
                argv += [x for kv in a.set for x in ("--set", kv)]
                peaks = {n: cpu_peak_mib(n, argv) for n in names}
            for n in names: rows.append((prec, det, n, med[n], audio[n] / med[n], peaks[n]))
            del runners
            if device.type == "cuda": torch.cuda.empty_cache()
    name = torch.cuda.get_device_name() if device.type == "cuda" else (
        f"CPU ({torch.backends.cpu.get_cpu_capability()}, native bf16: {native_bf16(device)}), {a.threads} threads")
    print(f"train.precision=auto trains in {pick_precision('auto', device)} here")
    print(f"\n{name}; preset {a.preset} encoder, batch {B}" + (f" x {a.seconds} s random audio" if not a.with_data else f", data from {a.with_data}")
          + f"; medians of {a.rounds} interleaved rounds of {a.steps} updates; AdamW")
    print(f"{'precision':<9} {'determ.':<7} {'update':<8} {'s/update':>9} {'audio-s/s':>10} {'peak MiB':>9} {'vs HF':>6}")
    for prec, det, n, s, aps, peak in rows:
        hf = next((r[4] for r in rows if r[0] == prec and r[1] == det and r[2] == "HF W2V2"), aps)
        print(f"{prec:<9} {det:<7} {n:<8} {s:>9.3f} {aps:>10.1f} {peak:>9.0f} {aps / hf:>6.2f}x")
    print("(ratio = audio-s/s over HF's; with data, each update reads different batches of varying length)")


if __name__ == "__main__":
    main()

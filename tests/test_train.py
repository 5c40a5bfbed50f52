"""The trainer: schedules, exact resume, optimizer reset at the switch, NaN handling."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest, torch
from vgs_study.schedules import Scenario, TwoPhase, Constant, LinearRamp, Cosine, Alternating, Piecewise, switch_epoch, PAPER_SCENARIOS
from vgs_study.train import train, load_checkpoint, TrainingDiverged
from vgs_study.checkpoint import RunDir


def test_schedule_values_at_chosen_points():
    assert Scenario.parse("W2V2").schedule(70)(33.3) == 0.0 and Scenario.parse("VGS").schedule(70)(0) == 1.0
    s = Scenario.parse("(VGS+, W2V2)").schedule(70)
    assert isinstance(s, TwoPhase) and s(0) == 0.5 and s(19.99) == 0.5 and s(20.0) == 0.0 and s.restarts == (20,)
    assert Scenario.parse("(W2V2, VGS)").schedule(7)(1.9) == 0.0 and Scenario.parse("(W2V2, VGS)").schedule(7)(2) == 1.0
    assert [switch_epoch(e) for e in (70, 7, 2)] == [20, 2, 1]
    r = LinearRamp(0.0, 1.0, 10, 20)
    assert [r(e) for e in (0, 10, 12.5, 20, 30)] == [0.0, 0.0, 0.25, 1.0, 1.0]
    c = Cosine(1.0, 0.0, 10)
    assert abs(c(0) - 1) < 1e-12 and abs(c(5) - 0.5) < 1e-12 and abs(c(10)) < 1e-12
    a = Alternating(0.0, 1.0, 2)
    assert [a(e) for e in (0, 1.9, 2, 3.5, 4)] == [0.0, 0.0, 1.0, 1.0, 0.0]
    p = Piecewise([(0, 0.0), (3, 0.5), (6, 1.0)], restart_each=True)
    assert [p(e) for e in (0, 3, 5.9, 6)] == [0.0, 0.5, 0.5, 1.0] and p.restarts == (3, 6)
    assert [s.name for s in PAPER_SCENARIOS][3] == "(W2V2, VGS+)"
    with pytest.raises(ValueError, match="unknown model"): Scenario.parse("(W2V2, VGG)")


def _cfg(tiny_cfg, **train):
    tiny_cfg.train.epochs, tiny_cfg.train.switch_epoch = 2, 1
    tiny_cfg.eval.val_recall_every = 0
    for k, v in train.items(): setattr(tiny_cfg.train, k, v)
    return tiny_cfg


def _same_weights(a, b):
    sa, sb = load_checkpoint(a)["model"], load_checkpoint(b)["model"]
    return all(torch.equal(sa[k], sb[k]) for k in sa)


def test_resume_mid_epoch_gives_identical_weights(tiny_cfg, tmp_path):
    cfg = _cfg(tiny_cfg, checkpoint_every_steps=4)
    train(cfg, "VGS+", tmp_path / "full", progress=False)
    r = train(cfg, "VGS+", tmp_path / "cut", progress=False, stop_after_steps=7)     # stops mid-epoch 1
    assert r == {"stopped_at_step": 7} and load_checkpoint(tmp_path / "cut/checkpoints/last.pt")["step"] == 4
    train(cfg, "VGS+", tmp_path / "cut", progress=False)                              # resumes at update 4
    assert _same_weights(tmp_path / "full/checkpoints/epoch_002.pt", tmp_path / "cut/checkpoints/epoch_002.pt")
    m1 = (tmp_path / "full/metrics.jsonl").read_text().splitlines()
    m2 = (tmp_path / "cut/metrics.jsonl").read_text().splitlines()
    strip = lambda ls: [{k: v for k, v in json.loads(l).items() if k != "audio_seconds_per_second"} for l in ls]
    assert strip(m1) == strip(m2)


def test_optimizer_and_lr_schedule_restart_at_the_switch(tiny_cfg, tmp_path):
    cfg = _cfg(tiny_cfg)
    train(cfg, "(W2V2, VGS)", tmp_path / "two", progress=False)
    ck = load_checkpoint(tmp_path / "two/checkpoints/epoch_002.pt")
    per_epoch = ck["step"] // 2
    steps = {int(s["step"]) for s in ck["optimizer"]["state"].values()}
    assert steps == {per_epoch}                              # only phase-B updates in the optimizer state
    assert ck["scheduler"]["last_epoch"] == per_epoch and ck["phase"] == 1 and ck["phase_start"] == 1
    rows = [json.loads(l) for l in (tmp_path / "two/epochs.jsonl").read_text().splitlines()]
    assert [r["alpha"] for r in rows] == [0.0, 1.0]
    # the study's way: phase B from the base run's switch checkpoint gives the same weights
    train(cfg, "W2V2", tmp_path / "base", progress=False)
    train(cfg, "(W2V2, VGS)", tmp_path / "fromb", init_from=tmp_path / "base/checkpoints/epoch_001.pt", progress=False)
    assert _same_weights(tmp_path / "two/checkpoints/epoch_002.pt", tmp_path / "fromb/checkpoints/epoch_002.pt")
    run = RunDir(tmp_path / "fromb")
    assert sorted(run.checkpoints()) == [1.25, 1.5, 2]     # a quarter and half into phase B, its end
    assert run.read_done()["epochs"] == 2 and run.read_info()["scenario"] == "(W2V2, VGS)"
    named = {run.config, run.info, run.done, run.last, run.log("metrics"), run.log("epochs"), *run.checkpoints().values()}
    written = {p for p in run.path.rglob("*") if p.is_file() and "tensorboard" not in p.parts}
    assert written == named                                 # every file training writes is one RunDir names


@pytest.mark.parametrize("epoch, name", [(0, "epoch_000.pt"), (6, "epoch_006.pt"), (2.25, "epoch_002.250.pt"),
                                         (12.5, "epoch_012.500.pt"), (1.125, "epoch_001.125.pt")])
def test_checkpoint_names_and_epochs_are_inverse(epoch, name):
    from vgs_study.checkpoint import checkpoint_epoch, checkpoint_name
    assert checkpoint_name(epoch) == name and checkpoint_epoch(name) == epoch
    assert isinstance(checkpoint_epoch(name), int) == float(epoch).is_integer()


def test_gumbel_temperature_restarts_with_phase_b(tiny_cfg, tmp_path):
    "Only the weights carry over at a switch: phase B's first updates anneal from the start temperature again."
    cfg = _cfg(tiny_cfg, log_every=1)
    start, end, decay = cfg.model.gumbel_temp
    train(cfg, "(VGS, W2V2)", tmp_path / "two", progress=False)
    train(cfg, "VGS", tmp_path / "base", progress=False)
    train(cfg, "(VGS, W2V2)", tmp_path / "fromb", init_from=tmp_path / "base/checkpoints/epoch_001.pt", progress=False)
    taus = {}
    for run in ("two", "fromb"):
        rows = [json.loads(l) for l in (tmp_path / run / "metrics.jsonl").read_text().splitlines()]
        phase_b = [r for r in rows if r["alpha"] == 0.0]
        first = phase_b[0]["step"] - 1                                     # updates made before phase B's first one
        assert phase_b[0]["gumbel_temperature"] == start                   # not start * decay^(phase A's updates)
        assert all(abs(r["gumbel_temperature"] - max(start * decay ** (r["step"] - 1 - first), end)) < 1e-12 for r in phase_b)
        taus[run] = [r["gumbel_temperature"] for r in phase_b]
    assert taus["two"] == taus["fromb"] and len(taus["two"]) > 1        # one process or two: the same phase B


def test_nan_loss_stops_cleanly_and_keeps_the_last_good_checkpoint(tiny_cfg, tmp_path, monkeypatch):
    import vgs_study.train as T
    cfg = _cfg(tiny_cfg)
    train(cfg, "VGS", tmp_path / "run", progress=False)
    before = (tmp_path / "run/checkpoints/last.pt").read_bytes()
    (tmp_path / "run/done.json").unlink()
    cfg.train.epochs = 3
    orig = T.FaSTVGS.forward
    def poisoned(self, *a, **k):
        out = orig(self, *a, **k); out["loss"] = out["loss"] * float("nan"); return out
    monkeypatch.setattr(T.FaSTVGS, "forward", poisoned)
    first = 2 * load_checkpoint(tmp_path / "run/checkpoints/last.pt")["step"] // 2 + 1     # first update of epoch 3
    with pytest.raises(TrainingDiverged, match=rf"loss is nan at epoch 3, update {first}\b.*last good checkpoint"):
        train(cfg, "VGS", tmp_path / "run", progress=False)
    assert (tmp_path / "run/checkpoints/last.pt").read_bytes() == before


def test_checkpoint_from_another_configuration_is_refused(tiny_cfg, tmp_path):
    cfg = _cfg(tiny_cfg, epochs=1)
    train(cfg, "VGS", tmp_path / "a", progress=False)
    cfg.model.embed_dim, cfg.train.epochs = 32, 2
    with pytest.raises(ValueError, match="another model configuration: embed_dim=64"):
        train(cfg, "(VGS, W2V2)", tmp_path / "b", init_from=tmp_path / "a/checkpoints/epoch_001.pt", progress=False)


@pytest.mark.parametrize("hardware_bf16, onednn_bf16, x86, expected", [
    (True, True, True, True),         # AVX512-BF16 or AMX, and oneDNN uses it
    (True, False, True, False),       # the instructions are there but oneDNN is capped below them (ONEDNN_MAX_CPU_ISA)
    (False, True, True, False),       # AVX512 without BF16: oneDNN emulates bf16, slower than fp32
    (False, False, True, False),      # AVX2 only: emulated bf16 is about 8x slower than fp32
    (False, True, False, True),       # not x86 (e.g. Arm): oneDNN's own answer
])
def test_native_bf16_asks_the_cpu_and_onednn_and_auto_trains_a_cpu_in_fp32(monkeypatch, hardware_bf16, onednn_bf16, x86,
                                                                            expected):
    import vgs_study.model as model
    monkeypatch.setattr(torch.cpu, "_is_avx2_supported", lambda: x86, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: hardware_bf16, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
    monkeypatch.setattr(model, "_onednn_bf16", lambda: onednn_bf16)
    assert model.native_bf16("cpu") is expected
    assert model.pick_precision("auto", "cpu") == "fp32"       # bf16 never made the CPU update faster
    assert model.pick_precision("fp32", "cpu") == "fp32" and model.pick_precision("bf16", "cpu") == "bf16"
    with pytest.raises(ValueError, match="unknown precision"): model.pick_precision("fp16", "cpu")


def test_auto_precision_is_bf16_on_a_gpu_that_has_it(monkeypatch):
    import vgs_study.model as model
    for supported, expected in ((True, "bf16"), (False, "fp32")):
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda s=supported: s)
        assert model.pick_precision("auto", "cuda") == expected


def test_auto_precision_follows_an_isa_cap_in_a_fresh_process():
    "With oneDNN capped at AVX2 (as on an AVX2-only CPU), `auto` trains in fp32 whatever the hardware has."
    code = "from vgs_study.model import pick_precision; print(pick_precision('auto', 'cpu'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2"})
    assert out.stdout.strip() == "fp32"


def test_length_buckets_keep_every_caption_cut_padding_and_resume():
    from vgs_study.data import ResumableSampler
    g = torch.Generator().manual_seed(0)
    lengths = (torch.rand(400, generator=g) * 60000 + 4000).long().tolist()
    padded = lambda bs: sum(max(lengths[i] for i in b) * len(b) for b in bs)
    plain = ResumableSampler(400, 8, seed=3)
    s = ResumableSampler(400, 8, seed=3, lengths=lengths, bucket=16)
    for epoch in (0, 1):
        plain.set_epoch(epoch), s.set_epoch(epoch)
        bs = s.batches()
        assert len(bs) == 50 and all(len(b) == 8 for b in bs)
        assert sorted(i for b in bs for i in b) == list(range(400))          # every caption once per epoch
        assert padded(bs) < 0.8 * padded(plain.batches())                     # less padding to compute
        tops = [max(lengths[i] for i in b) for b in bs]
        assert tops != sorted(tops) and tops != sorted(tops, reverse=True)    # batches in random order
        s.set_epoch(epoch, 5)
        assert list(iter(s)) == bs[5:]                                        # resumes with the unseen batches
    s.set_epoch(0)
    assert s.batches() != ResumableSampler(400, 8, seed=4, lengths=lengths, bucket=16).batches()


def test_training_reads_no_uninitialised_memory(tiny_cfg, tmp_path, monkeypatch):
    "The trainer turns off the NaN fill of new tensors that deterministic mode adds: the weights must not change."
    import types
    det = torch.utils.deterministic
    cfg = _cfg(tiny_cfg, checkpoint_every_steps=3)
    train(cfg, "VGS+", tmp_path / "unfilled", progress=False, stop_after_steps=6)
    assert not det.fill_uninitialized_memory
    det.fill_uninitialized_memory = True
    monkeypatch.setattr(torch.utils, "deterministic", types.SimpleNamespace())     # the trainer cannot turn it off
    train(cfg, "VGS+", tmp_path / "filled", progress=False, stop_after_steps=6)
    assert det.fill_uninitialized_memory
    assert _same_weights(tmp_path / "unfilled/checkpoints/last.pt", tmp_path / "filled/checkpoints/last.pt")
    assert load_checkpoint(tmp_path / "filled/checkpoints/last.pt")["step"] == 6


def test_audio_kept_in_memory_is_the_audio_read_and_reads_each_file_once(tiny_cfg, corpus_copy):
    from vgs_study.data import DataError, split_dataset
    tiny_cfg.data.audio_in_memory = False
    disk = split_dataset(tiny_cfg, "train", corpus_copy)
    tiny_cfg.data.audio_in_memory = True
    kept = split_dataset(tiny_cfg, "train", corpus_copy)
    first = [kept[i]["wav"].clone() for i in range(len(kept))]
    assert all(torch.equal(a, disk[i]["wav"]) for i, a in enumerate(first)) and len(kept.kept) == len(kept)
    for c in kept.captions: (corpus_copy / c.wav).write_bytes(b"not a wav file")     # the files are gone...
    assert all(torch.equal(kept[i]["wav"], a) for i, a in enumerate(first))          # ...memory serves them
    with pytest.raises(DataError, match="unreadable audio"): disk[0]                  # read from disk: damaged

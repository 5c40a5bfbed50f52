"""How the tasks share the encoder: linear CKA against its kernel formula and its invariances, word-level ABX on toy
sets with known answers, and the close-up checkpoints after a switch at the right updates."""
import numpy as np
import pytest
import torch
from vgs_study.sharing import cka_between, cka_frames, linear_cka, word_abx, word_triplets


def hsic_brute(K, L):
    "HSIC of two Gram matrices by its definition: tr(K H L H) / (n - 1)^2 with the centring matrix H."
    n = len(K)
    H = np.eye(n) - np.ones((n, n)) / n
    return np.trace(K @ H @ L @ H) / (n - 1) ** 2


def test_linear_cka_equals_the_kernel_formula():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(60, 7)), rng.normal(size=(60, 11))
    Y[:, :7] += 2 * X                                                   # related, not identical
    K, L = X @ X.T, Y @ Y.T
    brute = hsic_brute(K, L) / np.sqrt(hsic_brute(K, K) * hsic_brute(L, L))
    assert abs(linear_cka(X, Y) - brute) < 1e-12 and 0.3 < brute < 1


def test_cka_invariances_and_identity():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 16))
    Q, _ = np.linalg.qr(rng.normal(size=(16, 16)))
    for debiased in (False, True):
        assert abs(linear_cka(X, X, debiased) - 1) < 1e-9
        assert abs(linear_cka(X, 5.0 * X @ Q, debiased) - 1) < 1e-9            # rotation and isotropic scale
        assert abs(linear_cka(X, X + 3.0, debiased) - 1) < 1e-9                 # a shift: CKA centres
    noise = rng.normal(size=(200, 16))
    assert linear_cka(X, noise) < 0.15 and abs(linear_cka(X, noise, debiased=True)) < 0.05


def test_cka_frames_pick_the_same_frames_in_every_run():
    feats_a = {l: {f"u{k}": torch.randn(30, 4) for k in range(3)} for l in (1, 2)}
    feats_b = {l: {f: 2 * x for f, x in v.items()} for l, v in feats_a.items()}     # another "run": scaled features
    a, b = cka_frames(feats_a, 50, seed=3), cka_frames(feats_b, 50, seed=3)
    assert a[1].shape == (50, 4) and np.allclose(2 * a[1], b[1])
    assert np.allclose(np.diag(cka_between(a, b)), 1)


def _tokens(words, speakers, per=2):
    return [(k, w, "colour", 0.0, 0.3, s) for k, (w, s) in enumerate((w, s) for s in speakers for w in words for _ in range(per))]


def test_word_abx_task_and_known_answers():
    tokens = _tokens(["red", "green"], ["s1", "s2"])
    task = word_triplets(tokens)
    # within: 2 speakers x 2 ordered word pairs; across: the same x 1 other speaker
    assert len(task["within"]) == 4 and len(task["across"]) == 4
    A, B, X = task["across"][("s1", "red", "green", "s2")]
    assert all(tokens[i][1] == "red" and tokens[i][5] == "s1" for i in A) and all(tokens[i][5] == "s2" for i in X)
    words = np.array([t[1] == "red" for t in tokens], float)
    perfect = np.stack([words, 1 - words], 1) + 1e-3 * np.arange(len(tokens))[:, None]
    assert word_abx(perfect, task) == {"within": 0.0, "across": 0.0}
    same = np.ones((len(tokens), 2))                                                     # nothing tells words apart
    assert word_abx(same, task) == {"within": 50.0, "across": 50.0}
    noise = word_abx(np.random.default_rng(0).normal(size=(len(_tokens(["red", "green"], ["s1", "s2"], 40)), 8)),
                     word_triplets(_tokens(["red", "green"], ["s1", "s2"], 40)))
    assert all(40 < v < 60 for v in noise.values())                                    # random vectors: chance


def test_close_up_checkpoints_are_kept_at_the_right_updates(tiny_cfg, tmp_path):
    import json
    from vgs_study.train import train, load_checkpoint
    from vgs_study.checkpoint import RunDir
    cfg = tiny_cfg
    cfg.train.epochs, cfg.train.switch_epoch, cfg.eval.val_recall_every = 2, 1, 0
    cfg.train.switch_checkpoints = [0.125, 0.5]
    train(cfg, "(W2V2, VGS)", tmp_path / "run", progress=False)
    cks = RunDir(tmp_path / "run").checkpoints()
    assert sorted(cks) == [0, 1, 1.125, 1.5, 2]
    per_epoch = load_checkpoint(cks[1])["step"]
    for epoch, fraction in ((1.125, 0.125), (1.5, 0.5)):
        ck = load_checkpoint(cks[epoch])
        assert ck["step"] == per_epoch + max(1, round(fraction * per_epoch)) and ck["phase"] == 1
        assert ck["position"] == ck["step"] - per_epoch and ck["phase_step"] == per_epoch
    from vgs_study.evaluate import evaluate_run
    cfg_run = json.loads((tmp_path / "run/config.json").read_text())
    assert {"word_abx", "cka"} <= set(cfg_run["eval"]["metrics"])
    evaluate_run(tmp_path / "run", progress=False)                 # close-ups: only what the close-up figure reads
    import pandas as pd
    epochs = lambda f: sorted(set(pd.read_csv(tmp_path / "run" / f).epoch))
    assert epochs("abx.csv") == epochs("recall.csv") == [0, 1, 1.125, 1.5, 2]
    assert epochs("word_abx.csv") == [0, 1, 2]


def test_cka_between_scenarios_across_seeds_takes_the_seed_out_of_the_comparison(tmp_path):
    """Two scenarios that at the same seed are one and the same network (shared initial weights, data order, phase A)
    look identical at the same seed (CKA 1) and only as similar as two seeds of one scenario across seeds: the number
    the 'another seed' yardstick must be compared with."""
    from vgs_study.checkpoint import RunDir
    from vgs_study.config import preset
    from vgs_study.sharing import cka_results
    cfg = preset("tiny")
    rng = np.random.default_rng(0)
    runs = {}
    for seed in (1, 2, 3):
        frames = {l: rng.normal(size=(300, 16)).astype(np.float32) for l in (1, 2, 3)}     # what the seed makes
        for name in ("VGS", "(VGS, W2V2)"):
            rd = RunDir(tmp_path / f"s{seed}" / name.replace(" ", ""))
            rd.cka(cfg.train.epochs).parent.mkdir(parents=True, exist_ok=True)
            np.savez(rd.cka(cfg.train.epochs), **{f"layer_{l}": x for l, x in frames.items()})
            runs[(seed, name)] = {"dir": str(rd.path)}
    r = cka_results(runs, ["VGS", "(VGS, W2V2)"], None, cfg)
    same, across, other = (r[k]["shared"] for k in ("between", "between_other_seeds", "other_seed"))
    assert abs(same["VGS"]["(VGS, W2V2)"] - 1.0) < 1e-6
    assert abs(across["VGS"]["(VGS, W2V2)"] - other["VGS"]) < 1e-6 and abs(other["VGS"]) < 0.1
    assert abs(across["VGS"]["VGS"] - other["VGS"]) < 1e-6          # a scenario against itself across seeds

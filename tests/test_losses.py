"""Losses, masking and gradient routing against brute-force references."""
import math
import numpy as np, pytest, torch
from vgs_study.losses import (sample_negatives, contrastive_logits, contrastive_loss, diversity_loss, matching_loss,
                              codebook_perplexity)
from vgs_study.w2v2 import compute_mask_indices, expected_mask_fraction


def test_contrastive_loss_matches_a_loop():
    torch.manual_seed(0)
    M, K, d = 12, 5, 8
    x, y = torch.randn(M, d), torch.randn(M, d)
    neg = torch.randint(0, M, (M, K))
    y[3] = y[neg[2, 1]] if neg[2, 1] != 2 else y[3]          # make one distractor identical to its positive
    neg[2, 1] = 3; y[3] = y[2]
    lg = contrastive_logits(x, y, neg, 0.1)
    total = 0.0
    for m in range(M):
        cand = [y[m]] + [y[neg[m, k]] for k in range(K)]
        s = [float(torch.dot(x[m], c) / (x[m].norm() * c.norm()) / 0.1) for c in cand]
        for k in range(K):
            if torch.equal(cand[k + 1], y[m]): s[k + 1] = -math.inf
        assert np.allclose(lg[m].numpy(), s, atol=1e-5)
        total += -s[0] + math.log(sum(math.exp(v) for v in s if v != -math.inf))
    assert abs(contrastive_loss(lg).item() - total / M) < 1e-4
    assert lg[2, 2] == -math.inf


def test_distractors_come_from_other_masked_frames_of_the_same_utterance():
    mask = torch.zeros(3, 40, dtype=torch.bool)
    mask[0, 3:20] = True; mask[1, 10:14] = True; mask[2, ::3] = True
    neg = sample_negatives(mask, 200, torch.Generator().manual_seed(0))
    utt = mask.nonzero()[:, 0]
    assert (utt[neg] == utt[:, None]).all()
    assert (neg != torch.arange(len(utt))[:, None]).all()
    # uniform over the other frames of the utterance
    counts = torch.bincount(neg[0], minlength=len(utt))[:17]
    assert counts[0] == 0 and counts[1:].min() > 0


def test_diversity_loss_matches_the_formula():
    torch.manual_seed(0)
    logits = torch.randn(30, 2, 6)
    p = torch.softmax(logits, -1).mean(0)
    ppl = sum(math.exp(-sum(float(p[g, v]) * math.log(float(p[g, v]) + 1e-7) for v in range(6))) for g in range(2))
    assert abs(codebook_perplexity(logits).item() - ppl) < 1e-4
    assert abs(diversity_loss(logits).item() - (12 - ppl) / 12) < 1e-5


@pytest.mark.parametrize("similarity", ["dot", "cosine"])
def test_matching_loss_matches_a_loop(similarity):
    torch.manual_seed(0)
    B, D = 7, 5
    img, aud = torch.randn(B, D), torch.randn(B, D)
    ids = torch.tensor([0, 0, 1, 2, 2, 2, 3])
    T = 0.5 if similarity == "cosine" else 1.0
    def sim(i, j):
        a, b = img[i], aud[j]
        if similarity == "cosine": a, b = a / a.norm(), b / b.norm()
        return float(a @ b) / T
    loss = 0.0
    for i in range(B):            # rows: image i against every caption
        s = [sim(i, j) - (1.0 if i == j else 0) - (10000.0 if i != j and ids[i] == ids[j] else 0) for j in range(B)]
        loss += (-s[i] + math.log(sum(math.exp(v) for v in s))) / B
    for j in range(B):            # columns: caption j against every image
        s = [sim(i, j) - (1.0 if i == j else 0) - (10000.0 if i != j and ids[i] == ids[j] else 0) for i in range(B)]
        loss += (-s[j] + math.log(sum(math.exp(v) for v in s))) / B
    assert abs(matching_loss(img, aud, ids, 1.0, similarity, T).item() - loss) < 1e-4


@pytest.mark.parametrize("T", [60, 150, 399])
def test_masked_fraction_matches_the_exact_expectation(T):
    rng = np.random.default_rng(0)
    fr = [compute_mask_indices((1, T), None, 0.65, 10, 2, False, rng).float().mean().item() for _ in range(3000)]
    exact = expected_mask_fraction(T, 0.65, 10, 2)
    assert abs(np.mean(fr) - exact) < 4 * np.std(fr) / math.sqrt(len(fr)) + 1e-3
    assert 0.4 < exact < 0.65                                  # overlapping spans cover less than mask_prob


def test_trim_mask_gives_equal_counts_and_respects_padding():
    m = compute_mask_indices((5, 200), [200, 170, 120, 90, 60], 0.65, 10, 2, True, np.random.default_rng(1))
    assert len(set(m.sum(1).tolist())) == 1
    for b, n in enumerate([200, 170, 120, 90, 60]): assert not m[b, n:].any()


def _grads(alpha, all_losses=True, dropout=True):
    from vgs_study.config import preset
    from vgs_study.model import FaSTVGS
    torch.manual_seed(0)
    cfg = preset("tiny").model
    if not dropout:
        for k in ("dropout", "attention_dropout", "activation_dropout", "dropout_input", "dropout_features", "vgs_dropout"):
            setattr(cfg, k, 0.0)
    model = FaSTVGS(cfg)
    batch = {"wav": torch.randn(4, 24000), "wav_lengths": torch.tensor([24000, 22000, 20000, 16000]),
             "feats": torch.randn(4, 16, cfg.image_feat_dim), "boxes": torch.rand(4, 16, 4), "image": torch.tensor([0, 0, 1, 2])}
    out = model(batch, alpha, rng=np.random.default_rng(0), all_losses=all_losses)
    out["loss"].backward()
    return model, out


def _has_grad(mods): return any(p.grad is not None and p.grad.abs().sum() > 0 for m in mods for p in m.parameters())


def test_alpha_1_sends_no_gradient_to_ssl_only_parts():
    model, out = _grads(1.0)
    assert not _has_grad(model.ssl_modules())
    assert _has_grad(model.vgs_modules()) and _has_grad([model.w2v2.encoder.layers[0]])
    assert torch.isfinite(out["loss_aud"])                     # still computed for the logs when asked
    assert out["loss_aud"].grad_fn is None


@pytest.mark.parametrize("alpha, skipped", [(1.0, "loss_aud"), (0.0, "loss_av")])
def test_a_zero_weight_loss_is_skipped_unless_asked(alpha, skipped):
    "Training steps skip the branch whose weight is 0 (same gradients), logging steps compute it without gradient."
    m1, o1 = _grads(alpha, all_losses=False, dropout=False)       # (dropout draws would differ in order)
    m2, o2 = _grads(alpha, all_losses=True, dropout=False)
    assert skipped not in o1 and skipped in o2
    g1 = {n: p.grad for n, p in m1.named_parameters() if p.grad is not None}
    g2 = {n: p.grad for n, p in m2.named_parameters() if p.grad is not None}
    assert set(g1) == set(g2) and len(g1) > 10
    for n in g1: torch.testing.assert_close(g1[n], g2[n], atol=1e-6, rtol=1e-5)


def test_alpha_0_sends_no_gradient_to_the_vgs_branch():
    model, out = _grads(0.0)
    assert not _has_grad(model.vgs_modules())
    assert _has_grad(model.ssl_modules())
    assert torch.isfinite(out["loss_av"])


def test_total_loss_is_the_weighted_sum():
    _, out = _grads(0.3)
    from vgs_study.config import preset
    c = preset("tiny").model
    aud = out["contrastive"] + c.diversity_weight * out["diversity"] + c.feature_penalty_weight * out["feature_penalty"]
    assert torch.allclose(out["loss_aud"], aud.detach(), atol=1e-5)
    assert torch.allclose(out["loss"].detach(), 0.3 * out["loss_av"] + 0.7 * out["loss_aud"], atol=1e-5)


def test_trimming_stays_within_a_shard_of_16():
    "One 1.5 s clip among 63 of 8 s: whole-batch trimming cuts everyone to its count; shards of 16 only its own."
    lengths = [75] + [399] * 63
    whole = compute_mask_indices((64, 399), lengths, 0.65, 10, 2, True, np.random.default_rng(0), shard=0)
    shards = compute_mask_indices((64, 399), lengths, 0.65, 10, 2, True, np.random.default_rng(0), shard=16)
    assert len(set(whole.sum(1).tolist())) == 1 and whole[1:].float().mean() < 0.1       # ~9% of frames
    counts = shards.sum(1)
    assert len(set(counts[:16].tolist())) == 1 and counts[1] == counts[0]                 # the short clip's shard
    for s in range(16, 64, 16): assert len(set(counts[s:s + 16].tolist())) == 1
    frac = shards[16:].float().mean().item()
    assert 0.35 < frac < expected_mask_fraction(399)                                       # ~42%: trimmed to 16 clips' least


def test_candidate_chance_counts_the_distractors_left():
    "A guess among the candidates left: 1/4 with 3 distractors, 1/2 when 2 of them equal the positive (masked out)."
    from vgs_study.losses import candidate_chance, chance_accuracy, contrastive_logits
    inf = float("-inf")
    logits = torch.tensor([[1.0, 0.5, 0.2, 0.1], [1.0, inf, 0.2, inf]])
    assert abs(float(candidate_chance(logits)) - (1 / 4 + 1 / 2) / 2) < 1e-7
    # from real targets: frame 0's distractors 1 and 2 carry its own code, frame 3's none
    y = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    lg = contrastive_logits(torch.randn(4, 2), y, torch.tensor([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]]))
    by_hand = np.mean([1 / 2, 1 / 2, 1 / 2, 1 / 4])       # frames 0-2: two twins masked; frame 3: all three left
    assert abs(float(candidate_chance(lg)) - by_hand) < 1e-7 and float(candidate_chance(lg)) > chance_accuracy(3)

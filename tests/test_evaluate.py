import numpy as np, torch
from math import comb
from vgs_study.evaluate import retrieval_recall, retrieval_ranks, hit_probability, chance_recall


def brute_force(audio, image, cap_img, ks):
    S = (image @ audio.T).numpy()
    I, N = S.shape
    s2i = {k: np.mean([cap_img[j] in np.argsort(-S[:, j])[:k] for j in range(N)]) * 100 for k in ks}
    i2s = {k: np.mean([any(cap_img[c] == i for c in np.argsort(-S[i])[:k]) for i in range(I)]) * 100 for k in ks}
    return s2i, i2s


def test_recall_matches_brute_force_with_repeated_image_ids():
    torch.manual_seed(0)
    I, per, D = 23, 5, 12
    cap_img = torch.arange(I).repeat_interleave(per)[torch.randperm(I * per)]
    image = torch.randn(I, D)
    audio = image[cap_img] * 0.3 + torch.randn(I * per, D)       # some signal, far from perfect
    ks = (1, 5, 10)
    r = retrieval_recall(audio, image, cap_img, ks, chunk=7)          # small chunks exercise the blocking
    s2i, i2s = brute_force(audio, image, cap_img.tolist(), ks)
    for k in ks:
        assert abs(r["speech_to_image"][str(k)] - s2i[k]) < 1e-9
        assert abs(r["image_to_speech"][str(k)] - i2s[k]) < 1e-9
    assert 0 < r["speech_to_image"]["1"] < 100


def test_recall_of_random_embeddings_is_near_chance():
    torch.manual_seed(1)
    I, per = 200, 5
    cap_img = torch.arange(I).repeat_interleave(per)
    r = retrieval_recall(torch.randn(I * per, 16), torch.randn(I, 16), cap_img, (10,))
    assert abs(r["speech_to_image"]["10"] - 5.0) < 2.5                # chance: 10 / 200


def test_ties_count_as_chance_not_as_hits():
    "A collapsed model (every embedding equal) scores exactly chance both ways, not 100% (ties broken at random)."
    I, per = 40, 3
    cap_img = torch.arange(I).repeat_interleave(per)
    r = retrieval_recall(torch.ones(I * per, 8), torch.ones(I, 8), cap_img, (1, 10))
    N = I * per
    for k in (1, 10):
        assert abs(r["speech_to_image"][str(k)] - 100 * k / I) < 1e-9
        assert abs(r["image_to_speech"][str(k)] - 100 * (1 - comb(N - per, k) / comb(N, k))) < 1e-9
        assert abs(chance_recall(torch.full((I,), per), N, k) - r["image_to_speech"][str(k)]) < 1e-9


def test_hit_probability_of_a_tied_block_matches_enumeration():
    "Random tie-breaking, checked by enumerating every order of a tied block of 3 others and 2 relevant items."
    from itertools import permutations
    block = ["o", "o", "o", "r", "r"]
    for greater in (0, 1, 3):
        for k in (1, 2, 3, 4, 6):
            orders = set(permutations(block))
            exact = np.mean([greater + o.index("r") < k for o in orders])
            assert abs(hit_probability([greater], [3], [2], k).item() - exact) < 1e-12, (greater, k)


def test_recall_within_folds_is_the_mean_over_folds():
    "With a gallery of 10 images, every query competes with its own fold only: the same as scoring each fold alone."
    torch.manual_seed(2)
    I, per = 35, 2
    cap_img = torch.arange(I).repeat_interleave(per)
    image = torch.randn(I, 8); audio = image[cap_img] + 1.5 * torch.randn(I * per, 8)
    r = retrieval_recall(None, None, None, (1, 5), ranks=retrieval_ranks(audio, image, cap_img, gallery=10))
    folds = [(a, min(a + 10, I)) for a in range(0, I, 10)]
    parts = [retrieval_recall(audio[(cap_img >= a) & (cap_img < b)], image[a:b], cap_img[(cap_img >= a) & (cap_img < b)] - a,
                              (1, 5)) for a, b in folds]
    for d, n in (("speech_to_image", lambda a, b: per * (b - a)), ("image_to_speech", lambda a, b: b - a)):
        w = np.array([n(a, b) for a, b in folds], float)
        for k in ("1", "5"):
            assert abs(r[d][k] - np.dot(w, [p[d][k] for p in parts]) / w.sum()) < 1e-9
    ranks = retrieval_ranks(audio, image, cap_img, gallery=10)
    assert sorted(ranks["speech_to_image"]["query"].tolist()) == list(range(I * per))
    assert ranks["speech_to_image"]["gallery"].tolist()[-1] == 5                    # the last fold holds 5 images


def test_curves_epochs_are_scored_by_the_every_epoch_metrics_only():
    "The init, switch and end checkpoints get every metric; the curves' epochs and the close-up recall and ABX only."
    from vgs_study.config import preset
    from vgs_study.evaluate import Metric, metrics_at, metrics_of
    cfg = preset("default")
    metrics = metrics_of(cfg)
    names = lambda e: [m.name for m in metrics_at(e, metrics, cfg)]
    assert [m.name for m in metrics] == ["recall", "abx", "cka", "word_abx"]
    for e in (0, cfg.train.switch_epoch, cfg.train.epochs): assert names(e) == ["recall", "abx", "cka", "word_abx"]
    for e in (2, 4, 6.25, 6.5, 8): assert names(e) == ["recall", "abx"]
    mine = Metric("mine", ("part",), "value", None, None)
    assert [m.name for m in metrics_at(8, [*metrics, mine], cfg)] == ["recall", "abx", "mine"]
    assert [m.name for m in metrics_at(6.5, [*metrics, mine], cfg)] == ["recall", "abx"]

import numpy as np, torch
from vgs_study.evaluate import retrieval_recall


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

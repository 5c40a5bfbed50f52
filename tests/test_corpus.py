import hashlib, json
from pathlib import Path
import numpy as np, pytest, soundfile as sf
from vgs_study.speech import ARPABET
from vgs_study.data import read_split, read_item_file, ImageFeatures, SpokenCaptionDataset, collate


def test_manifest_counts_voices_and_coverage(tiny_corpus):
    m = json.loads((tiny_corpus / "manifest.json").read_text())
    assert m["counts"]["train"] == {"images": 24, "utterances": 120}
    assert m["counts"]["test"] == {"images": 20, "utterances": 100}
    assert not set(m["voices"]["train"]) & set(m["voices"]["test"])      # held-out voices
    assert not set(m["voices"]["train"]) & set(m["voices"]["abx"])
    assert m["phone_coverage"]["missing_in_captions"] == []                # all 39 phones
    assert len(m["sha256"]) == 64


def test_alignments_are_monotonic_and_cover_each_wav_exactly(tiny_corpus):
    aligns = sorted(tiny_corpus.rglob("*.align.json"))
    assert len(aligns) == 290
    for p in aligns:
        a = json.loads(p.read_text())
        wav, sr = sf.read(p.with_name(p.name.replace(".align.json", ".wav")))
        assert sr == 16000 and len(wav) == a["n_samples"]
        ph = a["phones"]
        assert ph[0][1] == 0 and abs(ph[-1][2] - len(wav) / sr) < 1e-5
        assert all(s < e for _, s, e in ph)
        assert all(abs(x[2] - y[1]) < 1e-9 for x, y in zip(ph, ph[1:]))
        assert {p_[0] for p_ in ph} <= set(ARPABET) | {"SIL"}
        assert all(ws <= we for _, ws, we in a["words"])


def test_item_lines_point_to_real_files_and_phones(tiny_corpus):
    items = read_item_file(tiny_corpus / "abx/abx.item")
    assert len(items) > 500
    cache = {}
    for it in items:
        if it.file not in cache:
            cache[it.file] = json.loads((tiny_corpus / f"abx/wavs/{it.file}.align.json").read_text())
        ph = [p for p in cache[it.file]["phones"]]
        # the central phone is a real phone of the utterance, between its neighbours, and the item spans all three
        idx = [k for k in range(1, len(ph) - 1) if ph[k][0] == it.phone and abs(ph[k - 1][1] - it.onset) < 1e-4
               and abs(ph[k + 1][2] - it.offset) < 1e-4]
        assert idx, it
        k = idx[0]
        assert (ph[k - 1][0], ph[k + 1][0]) == (it.prev, it.next) and it.phone in ARPABET
        assert ph[k][2] - ph[k][1] >= 0.03


def test_generation_is_byte_identical_with_1_and_2_workers(tmp_path):
    from vgs_study.corpus import generate_corpus
    from vgs_study.config import preset
    cfg = preset("tiny")
    cfg.data.n_train_images, cfg.data.n_val_images, cfg.data.n_test_images, cfg.data.n_abx_utterances = 30, 2, 4, 10
    m1 = generate_corpus(tmp_path / "a", cfg, seed=3, workers=1, progress=False)
    m2 = generate_corpus(tmp_path / "b", cfg, seed=3, workers=2, progress=False)
    assert m1["sha256"] == m2["sha256"]
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file() and p.name != "manifest.json")
    assert len(files) > 200
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


def test_corpus_loads_through_the_spokencoco_loaders(tiny_corpus):
    caps = read_split(tiny_corpus / "train.json")
    feats = ImageFeatures(tiny_corpus / "image_features.h5")
    assert feats.n_regions == 16 and feats.dim == 768 and len(feats) == 24 + 6 + 20
    ds = SpokenCaptionDataset(tiny_corpus / "test.json", tiny_corpus, feats, max_seconds=10)
    assert len(ds) == 100 and len(ds.image_ids) == 20
    b = collate([ds[i] for i in range(5)])
    assert b["wav"].shape[0] == 5 and b["feats"].shape == (5, 16, 768) and b["boxes"].shape == (5, 16, 4)
    assert abs(float(b["wav"][0, : b["wav_lengths"][0]].mean())) < 1e-3        # per-utterance normalisation
    f, bx = feats.get(caps[0].img_id)
    assert (bx[:, 0] < bx[:, 2]).all() and bx.min() >= 0 and bx.max() <= 1


def test_image_features_come_from_pixels_only(tiny_corpus):
    "Region features are exactly the image's patches: nothing from the scene description."
    from PIL import Image
    from vgs_study.corpus import patch_features
    feats = ImageFeatures(tiny_corpus / "image_features.h5")
    f, b = feats.get("train_00003")
    f2, b2 = patch_features(np.asarray(Image.open(tiny_corpus / "images/train/train_00003.png")), 16)
    np.testing.assert_array_equal(f, f2); np.testing.assert_array_equal(b, b2)

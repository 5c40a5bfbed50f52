import hashlib, json
from pathlib import Path
import numpy as np, pytest, soundfile as sf
from vgs_study.speech import ARPABET
from vgs_study.data import read_split, read_item_file, ImageFeatures, SpokenCaptionDataset, collate


def test_manifest_counts_voices_and_coverage(tiny_corpus):
    from vgs_study.config import preset
    d = preset("tiny").data
    m = json.loads((tiny_corpus / "manifest.json").read_text())
    for split, n in (("train", d.n_train_images), ("test", d.n_test_images), ("seen_voices", d.n_seen_voices_images)):
        assert m["counts"][split] == {"images": n, "utterances": n * d.captions_per_image}
    assert not set(m["voices"]["train"]) & set(m["voices"]["test"])      # held-out voices
    assert not set(m["voices"]["train"]) & set(m["voices"]["abx"])
    assert set(m["voices"]["seen_voices"]) <= set(m["voices"]["train"])   # new images, training voices
    assert len(set(m["voices"]["train"])) == d.n_train_voices
    assert m["phone_coverage"]["missing_in_captions"] == []                # every phone of the ABX set is heard in training
    assert {p for p, n in m["phone_coverage"]["abx"].items() if n} <= {p for p, n in m["phone_coverage"]["captions"].items() if n}
    assert len(m["sha256"]) == 64


def test_captions_describe_the_world_they_are_drawn_from(tiny_corpus):
    "Only the world's shapes and colours, one noun phrase per object, carrier phrases at about the configured rate."
    from vgs_study.config import preset
    from vgs_study.corpus import SHAPES, COLOURS, CARRIERS, sample_scene, caption
    d = preset("tiny").data
    rng = np.random.default_rng(0)
    scenes = [sample_scene(rng, d) for _ in range(400)]
    caps = [caption(s, rng, d) for s in scenes]
    assert all(len(s) == 1 for s in scenes)                                # world_objects = [1.0]
    for s, c in zip(scenes, caps):
        assert s[0].shape in SHAPES[:d.world_shapes] and s[0].colour in list(COLOURS)[:d.world_colours]
        assert c.endswith(f"the {s[0].colour} {s[0].shape}")
    carried = sum(any(c.startswith(k.split("{}")[0]) for k in CARRIERS) for c in caps) / len(caps)
    assert abs(carried - d.world_carrier_rate) < 0.04
    d.world_objects, d.world_relations = [0.0, 1.0], 0.0
    two = [sample_scene(rng, d) for _ in range(50)]
    assert all(len(s) == 2 and (s[0].shape, s[0].colour) != (s[1].shape, s[1].colour) for s in two)
    assert all(" and the " in caption(s, rng, d) for s in two)


def test_alignments_are_monotonic_and_cover_each_wav_exactly(tiny_corpus):
    aligns = sorted(tiny_corpus.rglob("*.align.json"))
    from vgs_study.config import preset
    d = preset("tiny").data
    n_images = d.n_train_images + d.n_val_images + d.n_test_images + d.n_seen_voices_images
    assert len(aligns) == n_images * d.captions_per_image + d.n_abx_utterances
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
    from vgs_study.config import preset
    d = preset("tiny").data
    assert feats.n_regions == 16 and feats.dim == 768
    assert len(feats) == d.n_train_images + d.n_val_images + d.n_test_images + d.n_seen_voices_images
    ds = SpokenCaptionDataset(tiny_corpus / "test.json", tiny_corpus, feats, max_seconds=10)
    assert len(ds) == d.n_test_images * d.captions_per_image and len(ds.image_ids) == d.n_test_images
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

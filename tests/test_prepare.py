"""Real-data preparation on small fixtures built here; nothing touches the network."""
import base64, hashlib, io, json, subprocess, sys
from pathlib import Path
import numpy as np, pytest, soundfile as sf, torch
from vgs_study.data import DataError, ImageFeatures, read_split, SpokenCaptionDataset, read_item_file, speaker_overlap, voices_label
from vgs_study import prepare
import pandas as pd
from vgs_study.config import preset
from vgs_study.evaluate import evaluate_recall, rank_records
from vgs_study.findings import chances
from vgs_study.model import FaSTVGS

ROOT = Path(__file__).resolve().parents[1]


class FakeResponse(io.BytesIO):
    def __init__(self, data, status=200): super().__init__(data); self.status = status; self.headers = {"Content-Length": str(len(data))}
    def __enter__(self): return self
    def __exit__(self, *a): return False


def test_download_resumes_and_verifies(tmp_path):
    blob = bytes(range(256)) * 100
    dest = tmp_path / "x.bin"
    (tmp_path / "x.bin.partial").write_bytes(blob[:1000])            # an interrupted download
    seen = []
    def opener(req):
        seen.append(req.headers.get("Range"))
        start = int(req.headers["Range"].split("=")[1].rstrip("-")) if req.headers.get("Range") else 0
        return FakeResponse(blob[start:], 206 if start else 200)
    prepare.download("http://example.invalid/x", dest, sha256=hashlib.sha256(blob).hexdigest(), progress=False, opener=opener)
    assert seen == ["bytes=1000-"] and dest.read_bytes() == blob and not (tmp_path / "x.bin.partial").exists()
    with pytest.raises(DataError, match="SHA-256"):
        prepare.download("http://example.invalid/y", tmp_path / "y.bin", sha256="0" * 64, progress=False,
                         opener=lambda req: FakeResponse(blob))
    assert not (tmp_path / "y.bin").exists()
    prepare.download("http://example.invalid/z", tmp_path / "z.bin", progress=False, opener=lambda req: FakeResponse(blob))
    assert (tmp_path / "z.bin.sha256").read_text().split()[0] == hashlib.sha256(blob).hexdigest()


def _spokencoco_fixture(tmp):
    sc = tmp / "SpokenCOCO"; (sc / "wavs/train/0").mkdir(parents=True); (sc / "wavs/val/0").mkdir(parents=True)
    rng = np.random.default_rng(0)
    def entries(split, folder, n):
        out = []
        for i in range(n):
            img = f"{folder}/COCO_{folder}_{i:012d}.jpg"
            caps = []
            for c in range(2):
                u = f"{folder}_{i}_{c}"
                ext = "flac" if c else "wav"
                sf.write(sc / f"wavs/{split}/0/{u}.{ext}", rng.normal(0, 0.1, 8000).astype(np.float32), 16000)
                caps.append({"text": "a cat", "speaker": f"s{c}", "uttid": u, "wav": f"wavs/{split}/0/{u}.{ext}"})
            out.append({"image": img, "captions": caps})
        return out
    (sc / "SpokenCOCO_train.json").write_text(json.dumps({"data": entries("train", "train2014", 4)}))
    (sc / "SpokenCOCO_val.json").write_text(json.dumps({"data": entries("val", "val2014", 4)}))
    karp = {"images": [{"filepath": "train2014", "filename": f"COCO_train2014_{i:012d}.jpg", "split": s}
                       for i, s in enumerate(["train", "restval", "val", "test"])] +
                      [{"filepath": "val2014", "filename": f"COCO_val2014_{i:012d}.jpg", "split": s}
                       for i, s in enumerate(["test", "val", "train", "restval"])]}
    (tmp / "dataset_coco.json").write_text(json.dumps(karp))
    return sc


def _tsv_fixture(path, ids, k=36, d=2048, bad_line=None):
    rng = np.random.default_rng(1)
    b64 = lambda a: base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()
    rows = []
    for n, i in enumerate(ids):
        conf = rng.random(k).astype(np.float32)
        boxes = (rng.random((k, 4)) * [320, 240, 320, 240]).astype(np.float32)
        feats = rng.random((k, d)).astype(np.float32)
        if n == bad_line: feats = feats[:-1]
        rows.append("\t".join([i, "480", "640", b64(np.zeros(k, np.int64)), b64(conf), b64(np.zeros(k, np.int64)),
                               b64(conf), str(k), b64(boxes), b64(feats)]))
    path.write_text("\n".join(rows) + "\n")
    return rows


def test_karpathy_split_tsv_conversion_and_loading(tmp_path):
    sc = _spokencoco_fixture(tmp_path)
    counts = prepare.build_karpathy_split([sc / "SpokenCOCO_train.json", sc / "SpokenCOCO_val.json"],
                                          tmp_path / "dataset_coco.json", sc, check_counts=False)
    assert {s: counts[s]["images"] for s in ("train", "val", "test")} == {"train": 4, "val": 2, "test": 2}
    assert counts["train"]["captions"] == 8
    with pytest.raises(DataError, match="differ from the Karpathy split"):
        prepare.build_karpathy_split([sc / "SpokenCOCO_train.json"], tmp_path / "dataset_coco.json", tmp_path / "o")
    r = subprocess.run([sys.executable, str(ROOT / "data_scripts/make_karpathy_split.py"), "--spokencoco", str(sc),
                        "--karpathy", str(tmp_path / "dataset_coco.json"), "--out", str(tmp_path / "o")],
                       capture_output=True, text=True)                           # the script: one line, no traceback
    assert r.returncode == 1 and r.stderr.startswith("error: image counts") and len(r.stderr.splitlines()) == 1
    ids = sorted({Path(e["image"]).stem for s in ("train2014", "val2014") for e in
                  json.loads((sc / f"SpokenCOCO_{s.replace('2014', '')}.json").read_text())["data"]})
    _tsv_fixture(tmp_path / "a.tsv", ids[:5]); _tsv_fixture(tmp_path / "b.tsv", ids[5:])
    h5 = tmp_path / "feat.h5"
    r = subprocess.run([sys.executable, str(ROOT / "data_scripts/lxmert_tsv_to_hdf5.py"), str(tmp_path / "a.tsv"),
                        str(tmp_path / "b.tsv"), "--out", str(h5)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    feats = ImageFeatures(h5)
    assert len(feats) == 8 and feats.n_regions == 36 and feats.dim == 2048
    f, b = feats.get(ids[0])
    assert b.min() >= 0 and b.max() <= 1
    ds = SpokenCaptionDataset(sc / "SpokenCOCO_test_unrolled_karpathy.json", tmp_path, feats)
    x = ds[0]
    assert x["feats"].shape == (36, 2048) and len(x["wav"]) == 8000     # flac and wav through the same loader
    # chance comes from the evaluated split's own counts (2 test images, 2 captions each), not from a preset's size
    cfg = preset("tiny"); cfg.model.image_feat_dim = 2048
    _, ranks = evaluate_recall(FaSTVGS(cfg.model).eval(), cfg, ds, ranks=True)
    c = chances(pd.DataFrame(rank_records("test", ranks)).assign(seed=1, scenario="VGS", epoch=0), [1, 10])["test"]
    assert abs(c["speech_to_image"][1] - 50) < 1e-9 and abs(c["image_to_speech"][1] - 50) < 1e-9   # 1 of 2; 1 - C(2,1)/C(4,1)
    assert c["speech_to_image"][10] == 100 and c["image_to_speech"][10] == 100
    # SpokenCOCO splits by image, not by speaker: the report says so from the manifests instead of "held-out voices"
    overlap = speaker_overlap(tmp_path, preset("paper"))
    assert overlap == {"known": True, "train_speakers": 2, "test_speakers": 2, "shared_speakers": 2,
                       "test_captions_by_training_speakers": 1.0}
    assert voices_label(overlap) == "100% of captions by training speakers"


def test_regions_are_sorted_by_confidence_and_boxes_normalised(tmp_path):
    rows = _tsv_fixture(tmp_path / "a.tsv", ["x1"], k=36, d=8)
    prepare.lxmert_tsv_to_hdf5([tmp_path / "a.tsv"], tmp_path / "f.h5", feat_dim=8, progress=False)
    f = rows[0].split("\t")
    conf = np.frombuffer(base64.b64decode(f[4]), np.float32)
    feats = np.frombuffer(base64.b64decode(f[9]), np.float32).reshape(36, 8)
    boxes = np.frombuffer(base64.b64decode(f[8]), np.float32).reshape(36, 4)
    got_f, got_b = ImageFeatures(tmp_path / "f.h5").get("x1")
    order = np.argsort(-conf, kind="stable")
    np.testing.assert_array_equal(got_f, feats[order])
    np.testing.assert_allclose(got_b, np.clip(boxes[order] / [640, 480, 640, 480], 0, 1), rtol=1e-6)


def test_tsv_row_with_a_wrong_array_size_is_named(tmp_path):
    _tsv_fixture(tmp_path / "bad.tsv", ["a", "b", "c"], d=16, bad_line=1)
    with pytest.raises(DataError, match=r"bad.tsv: line 2 \(b\): features has 560 values, expected 576"):
        prepare.lxmert_tsv_to_hdf5([tmp_path / "bad.tsv"], tmp_path / "f.h5", feat_dim=16, progress=False)
    assert not (tmp_path / "f.h5").exists()


def test_grid_features_from_a_torchscript_backbone(tmp_path):
    from PIL import Image
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 8, stride=8), torch.nn.ReLU())
    torch.jit.trace(net, torch.zeros(1, 3, 64, 64)).save(str(tmp_path / "bb.pt"))
    for i in range(3): Image.fromarray(np.full((40, 50, 3), 40 * i, np.uint8)).save(tmp_path / f"COCO_{i}.jpg")
    r = subprocess.run([sys.executable, str(ROOT / "data_scripts/extract_grid_features.py"), *[str(tmp_path / f"COCO_{i}.jpg") for i in range(3)],
                        "--backbone", str(tmp_path / "bb.pt"), "--out", str(tmp_path / "g.h5"), "--size", "64"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    g = ImageFeatures(tmp_path / "g.h5")
    f, b = g.get("COCO_2")
    assert f.shape == (64, 8) and b.shape == (64, 4) and abs(b[-1, 2] - 1) < 1e-6


def test_librispeech_tree_to_abx_wavs(tmp_path):
    ls = tmp_path / "LibriSpeech/dev-clean/84/121123"; ls.mkdir(parents=True)
    for u in ("84-121123-0000", "84-121123-0001"):
        sf.write(ls / f"{u}.flac", np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32), 16000)
    (ls / "84-121123.trans.txt").write_text("84-121123-0000 GO\n84-121123-0001 DO\n")
    item = tmp_path / "dev-clean.item"
    item.write_text("#file onset offset #phone prev-phone next-phone speaker\n84-121123-0000 0.1 0.3 AH G OW 84\n"
                    "84-121123-0001 0.2 0.4 UW D SIL 84\n")
    assert prepare.librispeech_to_wavs(tmp_path / "LibriSpeech", item, tmp_path / "wavs", progress=False) == 2
    assert sf.info(str(tmp_path / "wavs/84-121123-0001.wav")).samplerate == 16000
    item.write_text(item.read_text() + "99-1-0002 0.1 0.2 AA B C 99\n")
    with pytest.raises(DataError, match="99-1-0002"): prepare.librispeech_to_wavs(tmp_path / "LibriSpeech", item, tmp_path / "w2")


def _zip(path, members):
    import zipfile
    with zipfile.ZipFile(path, "w") as z:
        for m in members: z.writestr(m, f"contents of {m}")


@pytest.mark.parametrize("top", ["", "zerospeech2021/", "mscoco_imgfeat/"])
def test_the_unpack_script_finds_the_files_in_any_layout(tmp_path, top):
    "Flat, under a top folder, or LXMERT's `mscoco_imgfeat/`: the same files land at the same paths."
    _zip(tmp_path / "a.zip", [f"{top}phonetic/dev-clean.item", f"{top}phonetic/dev-clean/1.wav",
                              f"{top}phonetic/dev-clean/2.wav", f"{top}phonetic/dev-other/3.wav", f"{top}x_obj36.tsv"])
    r = subprocess.run([sys.executable, str(ROOT / "data_scripts/unpack.py"), str(tmp_path / "a.zip"),
                        "phonetic/dev-clean.item", "phonetic/dev-clean/", "x_obj36.tsv", "--out", str(tmp_path / "o")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got = sorted(str(p.relative_to(tmp_path / "o")) for p in (tmp_path / "o").rglob("*") if p.is_file())
    assert got == ["phonetic/dev-clean.item", "phonetic/dev-clean/1.wav", "phonetic/dev-clean/2.wav", "x_obj36.tsv"]
    assert (tmp_path / "o/phonetic/dev-clean/2.wav").read_text() == f"contents of {top}phonetic/dev-clean/2.wav"


def test_unpack_names_the_archive_what_it_expected_and_what_it_found(tmp_path):
    _zip(tmp_path / "val2014_obj36.zip", ["mscoco_imgfeat/val2014_obj36.tsv"])
    r = subprocess.run([sys.executable, str(ROOT / "data_scripts/unpack.py"), str(tmp_path / "val2014_obj36.zip"),
                        "train2014_obj36.tsv", "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert r.returncode == 1 and len(r.stderr.splitlines()) == 1
    assert "val2014_obj36.zip: holds no train2014_obj36.tsv in any folder (its top level: mscoco_imgfeat/)" in r.stderr
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="bad.zip: not a readable zip archive"):
        prepare.extract_found(tmp_path / "bad.zip", ["x"], tmp_path / "o", progress=False)


def test_float16_region_features_halve_the_file_and_read_back_within_2_to_the_minus_11(tmp_path):
    _tsv_fixture(tmp_path / "a.tsv", [f"i{k}" for k in range(4)])
    sizes = {}
    for dtype in ("float32", "float16"):
        r = subprocess.run([sys.executable, str(ROOT / "data_scripts/lxmert_tsv_to_hdf5.py"), str(tmp_path / "a.tsv"),
                            "--out", str(tmp_path / f"{dtype}.h5"), *(["--float16"] if dtype == "float16" else [])],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        sizes[dtype] = (tmp_path / f"{dtype}.h5").stat().st_size
    full, half = ImageFeatures(tmp_path / "float32.h5"), ImageFeatures(tmp_path / "float16.h5")
    for k in range(4):
        (f, b), (h, hb) = full.get(f"i{k}"), half.get(f"i{k}")
        assert h.dtype == np.float32 and np.array_equal(b, hb)
        assert np.all(np.abs(h - f) <= np.maximum(2 ** -11 * np.abs(f), 2 ** -25))    # 2^-25: below float16's normal range
    assert sizes["float16"] < 0.6 * sizes["float32"]

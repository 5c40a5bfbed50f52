"""The paper preset (177 M-parameter model, SpokenCOCO layout) runs a training step on small fixture data."""
import json
import numpy as np, pytest, soundfile as sf, torch
from vgs_study.config import preset
from vgs_study.corpus import write_image_features
from vgs_study.train import train


def test_paper_preset_trains_one_step_on_fixture_data(tmp_path):
    root = tmp_path / "spokencoco"
    sc = root / "SpokenCOCO"; (sc / "wavs/val/0").mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows, ids = [], []
    for i in range(4):
        img = f"val2014/COCO_val2014_{i:012d}.jpg"; ids.append(f"COCO_val2014_{i:012d}")
        for c in range(2):
            u = f"u{i}_{c}"
            sf.write(sc / f"wavs/val/0/{u}.wav", rng.normal(0, 0.1, 24000).astype(np.float32), 16000)
            rows.append({"image": img, "caption": {"text": "a cat", "speaker": "s", "uttid": u, "wav": f"SpokenCOCO/wavs/val/0/{u}.wav"}})
    for s in ("train", "val", "test"):
        (sc / f"SpokenCOCO_{s}_unrolled_karpathy.json").write_text(json.dumps({"data": rows}))
    (root / "mscoco_imgfeat").mkdir()
    write_image_features(root / "mscoco_imgfeat/coco_obj36.h5", ids, rng.random((4, 36, 2048), np.float32),
                         np.tile(np.array([0, 0, 0.5, 0.5], np.float32), (4, 36, 1)), [480] * 4, [640] * 4)
    cfg = preset("paper")
    cfg.data.root = str(root)
    cfg.train.batch_size, cfg.train.log_every = 4, 1
    r = train(cfg, "VGS+", tmp_path / "run", progress=False, stop_after_steps=1, with_validation=False)
    assert r == {"stopped_at_step": 1}
    m = json.loads((tmp_path / "run/metrics.jsonl").read_text().splitlines()[0])
    assert m["step"] == 1 and np.isfinite(m["loss_av"]) and np.isfinite(m["loss_aud"]) and m["alpha"] == 0.5
    ck = torch.load(tmp_path / "run/checkpoints/epoch_000.pt", weights_only=True)
    assert ck["config"]["model"]["embed_dim"] == 768 and ck["config"]["train"]["epochs"] == 70

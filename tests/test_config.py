import json, pytest
from vgs_study.config import Config, load_config, preset, PRESETS


def test_presets_build_and_round_trip_through_json(tmp_path):
    for name in PRESETS:
        cfg = preset(name)
        p = tmp_path / f"{name}.json"
        cfg.to_json(p)
        assert Config.from_json(p) == cfg


def test_paper_preset_is_the_papers_configuration():
    m, t = preset("paper").model, preset("paper").train
    assert (m.embed_dim, m.n_heads, m.ffn_dim, m.n_shared_layers, m.n_ssl_layers) == (768, 12, 3072, 8, 4)
    assert m.frame_stride == 320 and m.conv_layers[0] == [512, 10, 5] and len(m.conv_layers) == 7
    assert (m.mask_prob, m.mask_length, m.num_negatives, m.codebook_groups, m.codebook_size) == (0.65, 10, 100, 2, 320)
    assert (m.resdavenet_widths, m.image_layers, m.match_margin) == ([128, 256, 512, 768], 6, 1.0)
    assert (t.epochs, t.switch_epoch, t.batch_size, t.lr, t.optimizer, t.warmup_fraction, t.grad_clip) == (70, 20, 64, 1e-4, "bertadam", 0.1, 1.0)


def test_overrides_are_typed_and_checked():
    cfg = load_config("tiny", ["train.lr=0.002", "train.epochs=3", "model.cls_token=false", "eval.recall_ks=[1, 10]"])
    assert cfg.train.lr == 0.002 and cfg.train.epochs == 3 and cfg.model.cls_token is False and cfg.eval.recall_ks == [1, 10]
    for bad in ("train.lr", "nope.lr=1", "train.nope=1", "train.epochs=abc"):
        with pytest.raises(ValueError):
            load_config("tiny", [bad])


def test_malformed_config_json_names_the_file(tmp_path):
    p = tmp_path / "config.json"; p.write_text("{not json")
    with pytest.raises(ValueError, match="config.json"):
        Config.from_json(p)

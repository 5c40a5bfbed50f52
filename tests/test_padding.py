"""Padding-exact encoders: an utterance gives the same layer outputs and audio embedding alone and zero-padded in a
batch beside a longer one; `padding_exact=False` keeps the reference behaviour (checked against HuggingFace)."""
import pytest, torch
from vgs_study.config import preset
from vgs_study.model import FaSTVGS


def _model(exact=True, train=False):
    cfg = preset("tiny").model
    cfg.padding_exact = exact
    for k in ("dropout", "attention_dropout", "activation_dropout", "dropout_input", "dropout_features", "vgs_dropout"):
        setattr(cfg, k, 0.0)
    torch.manual_seed(0)
    m = FaSTVGS(cfg)
    with torch.no_grad():                       # non-trivial running statistics for eval mode
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm1d) and mod.running_mean is not None:
                mod.running_mean.uniform_(-0.5, 0.5); mod.running_var.uniform_(0.5, 2.0)
    return m.train(train)


def _pair(L=12000, seed=1):
    g = torch.Generator().manual_seed(seed)
    u, v = torch.randn(L, generator=g), torch.randn(2 * L, generator=g)
    batch = torch.zeros(2, 2 * L); batch[0, :L] = u; batch[1] = v
    return u, batch, torch.tensor([L, 2 * L])


def _rel(a, b): return float((a - b).norm() / b.norm())


@pytest.mark.parametrize("train", [False, True])
def test_layer_outputs_are_the_same_alone_and_padded(train):
    m = _model(train=train)
    u, batch, lengths = _pair()
    w = m.w2v2
    with torch.no_grad():
        alone = [o[0] for o in w.layer_outputs(u[None])] if not train else None
        feats_a, pen_a, _ = w.front_end(u[None], torch.tensor([len(u)]))
        feats_b, pen_b, pad = w.front_end(batch, lengths)
    n = int((~pad[0]).sum())
    assert n == feats_a.shape[1] and n < feats_b.shape[1]
    with torch.no_grad(): pen_unpadded = w.front_end(u[None])[1]
    assert _rel(feats_b[0, :n], feats_a[0]) < 1e-4 and abs(float(pen_a) - float(pen_unpadded)) < 1e-5
    if not train:
        padded = [o[0, :n] for o in w.layer_outputs(batch, lengths)]
        assert len(padded) == len(alone)
        for a, b in zip(padded, alone): assert _rel(a, b) < 1e-4


def test_audio_embedding_is_the_same_alone_and_padded_in_eval_mode():
    m = _model()
    u, batch, lengths = _pair()
    with torch.no_grad():
        a = m.embed_audio(u[None], torch.tensor([len(u)]))[0]
        b = m.embed_audio(batch, lengths)[0]
    assert _rel(b, a) < 1e-4


def test_extra_padding_changes_nothing_in_training_mode():
    "Batch statistics (masked BatchNorm) ignore padding: the same batch with more padding gives the same embeddings."
    m = _model(train=True)
    _, batch, lengths = _pair()
    more = torch.cat([batch, torch.zeros(2, 9000)], 1)
    with torch.no_grad():
        a, b = m.embed_audio(batch, lengths), m.embed_audio(more, lengths)
    assert _rel(b, a) < 1e-4


def test_reference_behaviour_leaks_padding():
    "The switch matters: without it the padded utterance's embedding differs (this is what the exact mode fixes)."
    m = _model(exact=False)
    u, batch, lengths = _pair()
    with torch.no_grad():
        a = m.embed_audio(u[None], torch.tensor([len(u)]))[0]
        b = m.embed_audio(batch, lengths)[0]
    assert _rel(b, a) > 1e-2


def test_padding_modes_against_huggingface(tmp_path):
    "padding_exact=False equals HF given the attention mask; True equals HF run on the short utterance alone."
    transformers = pytest.importorskip("transformers")
    from transformers import Wav2Vec2Config, Wav2Vec2Model
    from vgs_study.w2v2 import Wav2Vec2
    torch.manual_seed(0)
    hf = Wav2Vec2Model(Wav2Vec2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                                      conv_dim=(16, 16, 16), conv_stride=(5, 2, 2), conv_kernel=(10, 3, 2),
                                      num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4,
                                      feat_extract_norm="group")).eval()
    hf.save_pretrained(tmp_path)
    u, batch, lengths = _pair(4000)
    att = (torch.arange(batch.shape[1])[None] < lengths[:, None]).long()
    for exact in (False, True):
        ours = Wav2Vec2.from_pretrained(tmp_path, cls_token=False, padding_exact=exact).eval()
        with torch.no_grad():
            mine = ours.layer_outputs(batch, lengths)
            n = int(ours.feature_extractor.output_lengths(lengths)[0])
            ref = hf(u[None] if exact else batch, attention_mask=None if exact else att, output_hidden_states=True).hidden_states[1:]
        for a, b in zip(mine, ref): torch.testing.assert_close(a[0, :n], b[0, :n], atol=1e-4, rtol=1e-4)


def test_abx_features_and_caption_embeddings_are_the_same_in_batches(tiny_cfg):
    "Evaluation batches utterances by length because a padding-exact model gives the same outputs as one at a time."
    from vgs_study.evaluate import ABXSet, embed_split
    from vgs_study.data import split_dataset
    m = _model().eval()
    abx = ABXSet(tiny_cfg)
    abx.ev.batch_size = 1
    one = abx.layer_features(m)
    abx.ev.batch_size = 16
    batched = abx.layer_features(m)
    assert one.keys() == batched.keys() and one[1].keys() == batched[1].keys()
    for layer in one:
        for f in one[layer]:
            assert one[layer][f].shape == batched[layer][f].shape and _rel(batched[layer][f], one[layer][f]) < 1e-4
    ds = split_dataset(tiny_cfg, "test")
    a1, i1, c1 = embed_split(m, ds, batch_size=1)
    a16, i16, c16 = embed_split(m, ds, batch_size=16)
    assert torch.equal(c1, c16) and _rel(i16, i1) < 1e-4 and _rel(a16, a1) < 1e-4


def _batch_of_lengths(lengths, seed=0):
    g = torch.Generator().manual_seed(seed)
    L = max(lengths)
    wav = torch.randn(len(lengths), L, generator=g) * (torch.arange(L)[None] < torch.tensor(lengths)[:, None])
    return wav, torch.tensor(lengths)


@pytest.mark.parametrize("mode", ["group_norm", "layer_norm"])
def test_front_end_that_skips_padding_equals_the_padded_one(mode):
    """The packed front-end (utterances end to end, no arithmetic on padding) gives the padded front-end's features on
    every valid frame and zeros beyond them, and the same gradients: the same update, less work."""
    from vgs_study.w2v2 import FeatureExtractor
    conv = preset("default").model.conv_layers
    torch.manual_seed(0)
    padded = FeatureExtractor(conv, mode=mode, skip_padding=False)
    packed = FeatureExtractor(conv, mode=mode, skip_padding=True)
    packed.load_state_dict(padded.state_dict())
    wav, lengths = _batch_of_lengths([16000, 30011, 9000, 25000, 4800, 30011])
    a, b = padded(wav, lengths), packed(wav, lengths)
    frames = padded.output_lengths(lengths).tolist()
    assert a.shape == b.shape == (6, 128, int(padded.output_lengths(torch.tensor(30011))))
    valid = torch.arange(a.shape[-1])[None] < torch.tensor(frames)[:, None]                 # [B, T]
    torch.testing.assert_close(b * valid[:, None], a * valid[:, None], atol=1e-5, rtol=1e-5)
    assert float(b.detach()[~valid[:, None].expand_as(b)].abs().max()) == 0.0                       # padding frames are zeros
    w = torch.randn(a.shape[1], a.shape[2])
    grads = []
    for fe, x in ((padded, a), (packed, b)):
        (x * valid[:, None] * w).sum().backward()
        grads.append([p.grad for p in fe.parameters()])
    for ga, gb in zip(*grads): torch.testing.assert_close(gb, ga, atol=1e-4, rtol=1e-4)


def test_packed_front_end_does_not_depend_on_how_the_row_is_cut():
    "The row of utterances is cut into overlapping pieces for the later layers; any number of pieces gives the same."
    from vgs_study.w2v2 import FeatureExtractor
    torch.manual_seed(0)
    fe = FeatureExtractor(preset("tiny").model.conv_layers, skip_padding=True)
    wav, lengths = _batch_of_lengths([7000, 12345, 3300], seed=1)
    outs = [fe.packed(wav, lengths, rows=r) for r in (1, 2, 5, 64)]
    for o in outs[1:]: torch.testing.assert_close(o, outs[0], atol=1e-6, rtol=1e-6)
    alone = fe(wav[1:2, :12345])[0]
    torch.testing.assert_close(outs[0][1, :, :alone.shape[-1]], alone, atol=1e-5, rtol=1e-5)


def test_front_end_refuses_a_waveform_of_the_wrong_shape():
    from vgs_study.w2v2 import FeatureExtractor
    fe = FeatureExtractor(preset("tiny").model.conv_layers)
    expected = r"FeatureExtractor expects waveforms \[B, L\], got a tensor of shape \(1, 1, 4000\)"
    with pytest.raises(ValueError, match=expected): fe(torch.zeros(1, 1, 4000))


@pytest.mark.parametrize("module, args, expected", [
    ("SelfAttention", lambda m: m.w2v2.encoder.layers[0].attention(torch.zeros(2, 5)), r"frames \[B, T, D\]"),
    ("GumbelQuantizer", lambda m: m.w2v2.quantizer(torch.zeros(2, 3, 64)), r"features \[N, C\]"),
    ("AudioHead", lambda m: m.audio_head(torch.zeros(2, 5, 64), torch.zeros(2, 1, 64)), r"CLS \[B, D\]"),
    ("ImageEncoder", lambda m: m.image_encoder(torch.zeros(3, 768), torch.zeros(3, 4)), r"region features \[B, R, F\]")])
def test_modules_refuse_inputs_of_the_wrong_shape_naming_the_expected_one(module, args, expected):
    with pytest.raises(ValueError, match=rf"{module} expects {expected}, got a tensor of shape"): args(_model())

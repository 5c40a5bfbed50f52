"""The wav2vec 2.0 branch against HuggingFace transformers' implementation (built locally, random weights)."""
import numpy as np, pytest, torch
transformers = pytest.importorskip("transformers")
from transformers import Wav2Vec2Config, Wav2Vec2ForPreTraining, Wav2Vec2Model
from vgs_study.w2v2 import Wav2Vec2


def hf_config(stable):
    return Wav2Vec2Config(hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=64,
                          conv_dim=(16, 16, 16), conv_stride=(5, 2, 2), conv_kernel=(10, 3, 2),
                          num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4, codevector_dim=16,
                          proj_codevector_dim=12, num_codevectors_per_group=8, num_codevector_groups=2,
                          do_stable_layer_norm=stable, feat_extract_norm="layer" if stable else "group",
                          num_negatives=7)


@pytest.mark.parametrize("stable", [False, True])
def test_hidden_states_match_huggingface(tmp_path, stable):
    torch.manual_seed(0)
    hf = Wav2Vec2Model(hf_config(stable)).eval()
    hf.save_pretrained(tmp_path)
    ours = Wav2Vec2.from_pretrained(tmp_path, cls_token=False).eval()
    wav = torch.randn(2, 4000)
    with torch.no_grad():
        ref = hf(wav, output_hidden_states=True).hidden_states[1:]
    outs = ours.layer_outputs(wav)
    assert len(outs) == len(ref) == 3
    for a, b in zip(outs, ref):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_pretraining_losses_match_huggingface(tmp_path):
    torch.manual_seed(0)
    hf = Wav2Vec2ForPreTraining(hf_config(False)).eval()
    hf.save_pretrained(tmp_path)
    ours = Wav2Vec2.from_pretrained(tmp_path, cls_token=False).eval()
    assert ours.cfg.final_dim == 12 and ours.cfg.n_layers == 3
    wav = torch.randn(2, 8000)
    feats, _, _ = ours.front_end(wav)
    B, T = feats.shape[:2]
    mask = torch.zeros(B, T, dtype=torch.bool); mask[:, 5:25] = True
    g = torch.Generator().manual_seed(1)
    x, _ = ours.encoder_input(feats, mask)
    last = ours.encoder.run(x)[-1]
    parts = ours.ssl_loss(last, feats, mask, generator=g)
    # the same distractors, as HF's flat [B, T, K] indices into B*T frames
    g = torch.Generator().manual_seed(1)
    from vgs_study.losses import sample_negatives
    neg = sample_negatives(mask, ours.cfg.num_negatives, g)          # into the M masked frames
    flat_pos = mask.reshape(-1).nonzero().squeeze(1)                    # masked frame -> flat index
    sampled = torch.zeros(B, T, neg.shape[1], dtype=torch.long)
    sampled.view(B * T, -1)[flat_pos] = flat_pos[neg]
    with torch.no_grad():
        out = hf(wav, mask_time_indices=mask, sampled_negative_indices=sampled)
    M = int(mask.sum())
    torch.testing.assert_close(parts["contrastive"] * M, out.contrastive_loss, atol=1e-3, rtol=1e-4)
    # HF's eval mode computes the perplexity from the hard codes; fairseq (and this project) always from the softmax,
    # which HF also does in training mode: compare there (no dropout, so only the Gumbel draw is random)
    for k in ("hidden_dropout", "attention_dropout", "activation_dropout", "feat_proj_dropout", "feat_quantizer_dropout",
              "layerdrop"):
        setattr(hf.config, k, 0.0)
    hf2 = Wav2Vec2ForPreTraining(hf.config); hf2.load_state_dict(hf.state_dict()); hf2.train()
    with torch.no_grad():
        out2 = hf2(wav, mask_time_indices=mask, sampled_negative_indices=sampled)
    torch.testing.assert_close(parts["diversity"] * M, out2.diversity_loss, atol=1e-3, rtol=1e-4)


def test_fairseq_checkpoint_needs_explicit_opt_in(tmp_path):
    p = tmp_path / "model.pt"
    torch.save({"model": {}, "args": None}, p)
    with pytest.raises(PermissionError, match="arbitrary code"):
        Wav2Vec2.from_pretrained(p)


def test_unmappable_tensor_is_refused_with_its_name(tmp_path):
    torch.manual_seed(0)
    Wav2Vec2Model(hf_config(False)).save_pretrained(tmp_path)
    from safetensors.torch import load_file, save_file
    sd = load_file(str(tmp_path / "model.safetensors")); sd["adapter.weird.weight"] = torch.zeros(2)
    save_file(sd, str(tmp_path / "model.safetensors"))
    with pytest.raises(ValueError, match="adapter.weird.weight"):
        Wav2Vec2.from_pretrained(tmp_path)

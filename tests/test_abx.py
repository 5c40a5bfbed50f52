"""ABX against plain references: DTW by dynamic programming, hand-computed triplets, frame selection."""
import math, random
import numpy as np, pytest, torch
from vgs_study.abx import (item_frames, dtw_batch, normalize_with_singularity, build_task, abx_scores, abx_from_directory)
from vgs_study.data import Item, DataError


def dtw_reference(d):
    "Plain DP + backtracking, as the Libri-light evaluator's Cython code."
    N, M = d.shape
    c = np.zeros((N, M), np.float32)
    c[0, 0] = d[0, 0]
    for i in range(1, N): c[i, 0] = d[i, 0] + c[i - 1, 0]
    for j in range(1, M): c[0, j] = d[0, j] + c[0, j - 1]
    for i in range(1, N):
        for j in range(1, M): c[i, j] = d[i, j] + min(c[i - 1, j], c[i - 1, j - 1], c[i, j - 1])
    n, i, j = 1, N - 1, M - 1
    while i > 0 and j > 0:
        up, left, diag = c[i - 1, j], c[i, j - 1], c[i - 1, j - 1]
        if diag <= left and diag <= up: i, j = i - 1, j - 1
        elif left <= up: j -= 1
        else: i -= 1
        n += 1
    n += i + j
    return c[N - 1, M - 1] / n


def test_dtw_matches_plain_dynamic_programming():
    rng = np.random.default_rng(0)
    sizes = [(1, 1), (1, 5), (6, 1), (3, 7), (9, 4), (8, 8)]
    N, M = 9, 8
    d = torch.zeros(len(sizes), N, M)
    for k, (n, m) in enumerate(sizes): d[k, :n, :m] = torch.from_numpy(rng.random((n, m)).astype(np.float32))
    got = dtw_batch(d, torch.tensor([s[0] for s in sizes]), torch.tensor([s[1] for s in sizes]))
    for k, (n, m) in enumerate(sizes):
        assert abs(got[k].item() - dtw_reference(d[k, :n, :m].numpy())) < 1e-6


def test_dtw_path_length_on_ties():
    d = torch.zeros(1, 3, 3)     # all-zero: diagonal preferred, path of 3 cells
    assert dtw_batch(d, torch.tensor([3]), torch.tensor([3])).item() == 0
    d = torch.ones(1, 2, 4)      # 2 x 4 of ones: cost 4 over a path of 4 cells
    assert abs(dtw_batch(d, torch.tensor([2]), torch.tensor([4])).item() - 1.0) < 1e-7


def test_zero_frames_sit_at_maximal_distance():
    x = normalize_with_singularity(torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]]))
    dist = (x @ x.T).clamp(-1, 1).acos() / math.pi
    assert dist[0, 1] == 1.0 and dist[0, 2] == 0.0 and dist[1, 1] < 1e-3


@pytest.mark.parametrize("onset,offset,n,mode,expected", [
    (0.035, 0.125, 100, "exact", (2, 6)), (0.035, 0.125, 100, "libri-light", (2, 5)),
    (0.0, 0.05, 100, "libri-light", (0, 2)), (0.0, 0.05, 100, "exact", (0, 3)),      # centre 0.05 is inside
    (0.03, 0.035, 100, "libri-light", None), (0.03, 0.035, 100, "exact", (1, 2)),   # one frame: the evaluator drops it
    (1.9, 2.5, 100, "libri-light", (95, 100)), (1.9, 2.5, 100, "exact", (95, 100)),  # clipped at the end
    (2.1, 2.3, 100, "libri-light", None), (0.012, 0.028, 100, "exact", None)])        # past the end / no centre inside
def test_item_frame_selection(onset, offset, n, mode, expected):
    assert item_frames(onset, offset, n, 50, mode) == expected


def _items(spec):
    return [Item(f, 0.0, 0.1, p, "A", "B", s, k + 2) for k, (f, p, s) in enumerate(spec)]


def test_hand_computed_within_and_across():
    # one context, phones P and Q; speaker s1 has 2 P and 1 Q, s2 has 1 P and 1 Q.  1-D features at 50 Hz, 5 frames each.
    spec = [("a1", "P", "s1"), ("a2", "P", "s1"), ("b1", "Q", "s1"), ("x1", "P", "s2"), ("y1", "Q", "s2")]
    vec = {"a1": [1, 0.1], "a2": [1, 0.3], "b1": [0.2, 1], "x1": [1, -0.2], "y1": [0.9, 1]}
    feats = {f: torch.tensor([v] * 5, dtype=torch.float32) for f, v in vec.items()}
    task = build_task(_items(spec), {f: 5 for f in feats}, 50, "exact")
    s = abx_scores(task, {"L": feats})["L"]
    ang = lambda u, v: math.acos(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v)) / math.pi
    # within s1, A=P, B=Q: X and A from {a1, a2} (X != A): d(a1,a2) < d(a1,b1) and d(a2,a1) < d(a2,b1) -> error 0
    # within s1, A=Q has a single token: no triplet. within s2: single tokens only.
    assert s["within"] == 0.0
    # across: (s1: A=P, B=Q, X from s2 = x1) and (s1: A=Q, B=P, X=y1) and (s2: A=P, B=Q, X in s1 {a1, a2}) and (s2: A=Q, B=P, X=b1)
    e = []
    e.append(np.mean([ang(vec["x1"], vec[a]) >= ang(vec["x1"], vec["b1"]) for a in ("a1", "a2")]))
    e.append(np.mean([ang(vec["y1"], vec["b1"]) >= ang(vec["y1"], vec[a]) for a in ("a1", "a2")]))
    e.append(np.mean([ang(vec[x], vec["x1"]) >= ang(vec[x], vec["y1"]) for x in ("a1", "a2")]))
    e.append(float(ang(vec["b1"], vec["y1"]) >= ang(vec["b1"], vec["x1"])))
    # contexts, then speakers, then phone pairs: pairs (P,Q): speakers s1 -> e0, s2 -> e2; (Q,P): s1 -> e1, s2 -> e3
    expected = 100 * np.mean([np.mean([e[0], e[2]]), np.mean([e[1], e[3]])])
    assert abs(s["across"] - expected) < 1e-6


def _synthetic(n_utt=30, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    phones = ["AA", "IY", "UW", "S", "T"]
    code = {p: rng.normal(size=16) for p in phones}
    items, feats = [], {}
    for u in range(n_utt):
        seq = [phones[int(rng.integers(len(phones)))]]
        while len(seq) < 8:                      # no phone twice in a row: DTW would stretch one onto the other
            p = phones[int(rng.integers(len(phones)))]
            if p != seq[-1]: seq.append(p)
        spk = f"spk{u % 4}"
        feats[f"u{u}"] = torch.tensor(np.stack([code[p] + noise * rng.normal(size=16) for p in seq for _ in range(5)]), dtype=torch.float32)
        for k in range(1, 7):
            items.append(Item(f"u{u}", (k - 1) * 0.1, (k + 2) * 0.1, seq[k], seq[k - 1], seq[k + 1], spk, len(items) + 2))
    return items, feats


def test_phone_features_give_low_error_random_about_half():
    items, feats = _synthetic()
    task = build_task(items, {k: len(v) for k, v in feats.items()}, 50, "libri-light")
    good = abx_scores(task, {"phone": feats})["phone"]
    torch.manual_seed(0)
    rnd = abx_scores(task, {"random": {k: torch.randn_like(v) for k, v in feats.items()}})["random"]
    assert good["within"] < 5 and good["across"] < 5
    assert 40 < rnd["within"] < 60 and 40 < rnd["across"] < 60


def test_exact_and_libri_light_modes_differ_only_in_conventions():
    items, feats = _synthetic(12)
    n = {k: len(v) for k, v in feats.items()}
    a = build_task(items, n, 50, "exact"); b = build_task(items, n, 50, "libri-light")
    assert len(a.items) == len(b.items) == len(items)
    assert all(sb[1] == sa[1] - 1 for sa, sb in zip(a.slices, b.slices))      # the evaluator drops the last frame


def test_cli_features_directory(tmp_path):
    items, feats = _synthetic(10)
    (tmp_path / "f").mkdir()
    for k, v in feats.items(): np.save(tmp_path / "f" / f"{k}.npy", v.numpy())
    item = tmp_path / "x.item"
    item.write_text("#file onset offset #phone prev-phone next-phone speaker\n" + "".join(
        f"{i.file} {i.onset:.4f} {i.offset:.4f} {i.phone} {i.prev} {i.next} {i.speaker}\n" for i in items))
    from vgs_study.cli import main
    import json, contextlib, io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf): assert main(["abx", "--features", str(tmp_path / "f"), "--item", str(item)]) == 0
    r = json.loads(buf.getvalue())
    assert r["within"] < 5 and r["items"] == len(items) and r["items_dropped"] == 0


def test_bad_inputs_are_named(tmp_path):
    items, feats = _synthetic(4)
    (tmp_path / "f").mkdir()
    for k, v in feats.items(): np.save(tmp_path / "f" / f"{k}.npy", v.numpy())
    head = "#file onset offset #phone prev-phone next-phone speaker\n"
    good = "u0 0.0 0.3 AA IY UW spk0\n"
    cases = {"malformed line": (head + good + "u0 0.1 AA IY UW spk0\n", "line 3"),
             "bad number": (head + "u0 zero 0.3 AA IY UW spk0\n", "line 2"),
             "missing file": (head + good + "u99 0.0 0.3 AA IY UW spk0\n", "u99")}
    for name, (text, needle) in cases.items():
        p = tmp_path / f"{name.replace(' ', '_')}.item"; p.write_text(text)
        with pytest.raises(DataError, match=needle): abx_from_directory(tmp_path / "f", p)
    np.save(tmp_path / "f" / "u1.npy", np.full((40, 16), np.nan, np.float32))
    p = tmp_path / "nan.item"; p.write_text(head + "u1 0.0 0.3 AA IY UW spk0\n")
    with pytest.raises(DataError, match="u1.npy.*NaN"): abx_from_directory(tmp_path / "f", p)
    np.save(tmp_path / "f" / "u2.npy", np.zeros((40, 3), np.float32))
    p = tmp_path / "dim.item"; p.write_text(head + good + "u2 0.0 0.3 IY AA UW spk0\n")
    with pytest.raises(DataError, match="dimensions"): abx_from_directory(tmp_path / "f", p)


def test_items_without_frames_are_counted_not_lost():
    items, feats = _synthetic(6)
    items.append(Item("u0", 0.30, 0.31, "AA", "X", "Y", "spk0", 999))      # 10 ms: no frame centre
    task = build_task(items, {k: len(v) for k, v in feats.items()}, 50, "libri-light")
    assert len(task.dropped) == 1 and task.dropped[0].line == 999

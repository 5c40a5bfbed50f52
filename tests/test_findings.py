"""Findings: the verdict rule at its edges, intervals from seeds and test set, and every verdict reached on made-up studies."""
import numpy as np
import pytest
from vgs_study.config import preset
from vgs_study.findings import (Evidence, FINDINGS, findings, interval, learning_checks, simulated_study, t975, verdict)

RECALL = {"W2V2": 1.0, "VGS": 45, "VGS+": 50, "(W2V2, VGS+)": 65, "(VGS, VGS+)": 50, "(W2V2, VGS)": 65,
          "(VGS, W2V2)": 1.0, "(VGS+, W2V2)": 20, "(VGS+, VGS)": 48}
ABX = {"W2V2": 12, "VGS": 5, "VGS+": 7, "(W2V2, VGS+)": 8, "(VGS, VGS+)": 7, "(W2V2, VGS)": 8, "(VGS, W2V2)": 9,
       "(VGS+, W2V2)": 9, "(VGS+, VGS)": 5}
JUMPS = {"(VGS, W2V2)": 5, "(VGS+, W2V2)": 5}
CLEAR = dict(seed_sd=0.3, images=1000)


def assessed(recall=RECALL, abx=ABX, jumps=JUMPS, **kw):
    data = simulated_study(recall, abx, jumps, **{**CLEAR, **kw})
    ev = Evidence(data, n_boot=300)
    return {f["id"]: f for f in findings(ev, learning_checks(data, ev, preset("default")))}


@pytest.mark.parametrize("low, high, expected", [
    (2.01, 9.0, "holds"), (2.0, 9.0, "inconclusive"),            # the whole interval must lie beyond the threshold
    (-9.0, -2.01, "reversed"), (-9.0, -2.0, "inconclusive"),
    (-2.0, 2.0, "no effect"), (-1.0, 1.5, "no effect"),          # within +-threshold, edges included
    (-2.01, 1.0, "inconclusive"), (1.0, 2.01, "inconclusive"), (-3.0, 3.0, "inconclusive"),
    (float("nan"), 1.0, "inconclusive")])
def test_verdict_rule_at_its_edges(low, high, expected):
    assert verdict(low, high, 2.0) == expected


@pytest.mark.parametrize("df, published", [(1, 12.706), (2, 4.303), (10, 2.228), (11, 2.201), (20, 2.086),
                                             (30, 2.042), (40, 2.021), (60, 2.000), (120, 1.980)])
def test_t_quantile_matches_the_published_table(df, published):
    "Student's t 0.975 quantiles (any statistics textbook's table), beyond the tabulated 30 degrees of freedom too."
    assert abs(t975(df) - published) <= 1e-3


def test_interval_adds_test_set_and_seed_noise_in_quadrature():
    rng = np.random.default_rng(0)
    noise = lambda: np.r_[0.0, rng.normal(0, 1.0, 4000)]                                  # row 0: the full test set
    one = interval({1: 4.0 + noise()})
    assert one["half_seeds"] == 0 and abs(one["half_test"] - 1.96) < 0.1               # one seed: the test set only
    three = {s: v + noise() for s, v in ((1, 3.0), (2, 4.0), (3, 5.0))}
    iv = interval(three)
    assert iv["effect"] == 4.0 and abs(iv["half_seeds"] - t975(2) * 1.0 / np.sqrt(3)) < 1e-9
    assert abs(iv["half_test"] - 1.96 / np.sqrt(3)) < 0.1                                # shared resamples average
    assert abs((iv["high"] - iv["effect"]) - np.hypot(iv["half_test"], iv["half_seeds"])) < 1e-12


def test_clear_effects_as_the_paper_states_them_hold():
    res = assessed()
    assert {i: f["verdict"] for i, f in res.items()} == {1: "holds", 2: "holds", 3: "holds", 4: "holds", 5: "holds"}
    f2 = {p["claim"]: p for p in res[2]["parts"]}
    assert f2["(VGS, W2V2) ends at chance"]["verdict"] == "no effect" and f2["(VGS, W2V2) ends at chance"]["agrees"]
    assert all(p["seeds"] == [1, 2, 3] for f in res.values() for p in f["parts"])


def test_reversed_effects_do_not_hold():
    recall = dict(RECALL, **{"(W2V2, VGS)": 35, "(W2V2, VGS+)": 35})                   # W2V2 first hurts retrieval
    abx = dict(ABX, W2V2=2, VGS=8, **{"(VGS+, VGS)": 8})                                   # SSL gives the better ABX
    res = assessed(recall, abx)
    assert res[1]["verdict"] == "does not hold" and res[3]["verdict"] == "does not hold"
    assert any(p["verdict"] == "reversed" for p in res[1]["parts"]) and all(p["verdict"] == "reversed" for p in res[3]["parts"])
    res = assessed(jumps={"(VGS, W2V2)": -5, "(VGS+, W2V2)": -5, "(W2V2, VGS)": 6})          # ABX falls after the switch
    parts = {p["claim"].split(":")[0]: p["verdict"] for p in res[5]["parts"]}
    assert res[5]["verdict"] == "does not hold" and parts == {"(W2V2, VGS)": "holds", "(W2V2, VGS+)": "no effect",
                                                              "(VGS, W2V2)": "reversed", "(VGS+, W2V2)": "reversed"}
    assert assessed(losses=(0.2, 0.6))[4]["verdict"] == "does not hold"                    # loss_AV the slower one


def test_no_effect_where_the_paper_claims_one_does_not_hold():
    res = assessed(abx=dict(ABX, W2V2=5, **{"(VGS+, VGS)": 5}), seed_sd=0.15)                # VGS and W2V2 equal
    assert res[3]["verdict"] == "does not hold" and all(p["verdict"] == "no effect" for p in res[3]["parts"])
    res = assessed(dict(RECALL, **{"(VGS, W2V2)": 20}))                                      # VGS -> W2V2 keeps retrieval
    part = res[2]["parts"][0]
    assert part["verdict"] == "holds" and part["agrees"] is False and res[2]["verdict"] == "does not hold"


def test_noisy_small_studies_are_inconclusive():
    res = assessed(seeds=(1, 2), seed_sd=6.0, images=150)
    assert res[1]["verdict"] == "inconclusive"
    assert any(p["verdict"] == "inconclusive" for p in res[1]["parts"])
    assert not any(p["agrees"] is False for p in res[1]["parts"])


def test_a_failed_check_or_a_missing_run_makes_a_finding_not_testable():
    res = assessed(passing=False)                                                          # W2V2's codebook collapsed
    for i in (1, 2, 3, 5):
        assert res[i]["verdict"] == "not testable here" and "w2v2_ssl (not passed)" in res[i]["reason"]
    assert res[4]["verdict"] == "holds"                                                    # rests on VGS+ only
    recall = {k: v for k, v in RECALL.items() if k != "(VGS+, W2V2)"}
    res = assessed(recall, {k: ABX[k] for k in recall})
    assert res[2]["verdict"] == "not testable here" and "(VGS+, W2V2) not run" in res[2]["reason"]


def test_every_finding_rests_on_the_checks_of_the_runs_it_reads():
    for f in FINDINGS:
        runs = {n for p in f.parts for n in p.scenarios}
        if any("VGS+" in n for n in runs): assert {"vgsplus_ssl", "vgsplus_recall"} <= set(f.needs), f.id
        if any(n.startswith("(W2V2") or n == "W2V2" or "W2V2)" in n for n in runs): assert "w2v2_ssl" in f.needs, f.id


def test_checks_pass_for_every_seed_or_not_at_all():
    data = simulated_study(RECALL, ABX, JUMPS, **CLEAR)
    ev = Evidence(data, n_boot=100)
    checks = {c["id"]: c for c in learning_checks(data, ev, preset("default"))}
    assert set(checks) == {"w2v2_ssl", "vgsplus_ssl", "vgs_recall", "vgsplus_recall", "w2v2_abx", "vgs_abx"}
    assert all(c["status"] == "passed" and set(c["per_seed"]) == {"1", "2", "3"} for c in checks.values())
    ep = data["epochs"]
    ep.loc[(ep.scenario == "VGS+") & (ep.seed == 2), "val_accuracy"] = 0.01               # one seed fails
    checks = {c["id"]: c for c in learning_checks(data, ev, preset("default"))}
    assert checks["vgsplus_ssl"]["status"] == "not passed" and "seed(s) 2" in checks["vgsplus_ssl"]["reason"]

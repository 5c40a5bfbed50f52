"""Findings: the verdict rule at its edges, intervals from seeds and test set, and every verdict reached on made-up studies."""
import re
import numpy as np
import pytest
from vgs_study.config import preset
from vgs_study.findings import (Evidence, FINDINGS, READINGS, closeup_agreement, findings, interval, learning_checks,
                                simulated_study, verdict, SIMULATED_MFCC)
from vgs_study.results import t975, t_quantile

RECALL = {"W2V2": 1.0, "VGS": 45, "VGS+": 50, "(W2V2, VGS+)": 65, "(VGS, VGS+)": 50, "(W2V2, VGS)": 65,
          "(VGS, W2V2)": 1.0, "(VGS+, W2V2)": 20, "(VGS+, VGS)": 48}
ABX = {"W2V2": 12, "VGS": 5, "VGS+": 7, "(W2V2, VGS+)": 8, "(VGS, VGS+)": 7, "(W2V2, VGS)": 8, "(VGS, W2V2)": 9,
       "(VGS+, W2V2)": 9, "(VGS+, VGS)": 5}
JUMPS = {"(VGS, W2V2)": 5, "(VGS+, W2V2)": 5}
CLEAR = dict(seed_sd=0.3, images=1000)
CFG = preset("default").override("train.epochs=6", "train.switch_epoch=2")       # the simulated studies' recipe


def checked(data, ev):
    return learning_checks(data, ev, CFG, SIMULATED_MFCC)


def assessed(recall=RECALL, abx=ABX, jumps=JUMPS, **kw):
    data = simulated_study(recall, abx, jumps, **{**CLEAR, **kw})
    ev = Evidence(data, n_boot=300)
    return {f["id"]: f for f in findings(ev, checked(data, ev))}


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


@pytest.mark.parametrize("p, df, published", [(0.995, 2, 9.925), (0.995, 5, 4.032), (0.9995, 3, 12.924),
                                                (0.95, 1, 6.314), (0.975, float("inf"), 1.960)])
def test_t_quantile_at_other_levels_and_fractional_df(p, df, published):
    "The levels that Bonferroni intervals need, from the same table; a fractional df lies between its neighbours."
    assert abs(t_quantile(p, df) - published) <= 1e-3
    assert t975(2) > t975(2.5) > t975(3)


def _study_of(S, I, sd_seed, sd_item, sd_inter, rng, W, mean=1.0):
    "The per-seed effects [1 + B] of one simulated study: mean + seed + item + seed x item, on shared resamples W."
    y = mean + rng.normal(0, sd_seed, S)[None] + rng.normal(0, sd_item, I)[:, None] + rng.normal(0, sd_inter, (I, S))
    E = (W @ y) / W.sum(1, keepdims=True)
    return {s: E[:, s] for s in range(S)}


@pytest.mark.parametrize("seeds", [3, 5])
@pytest.mark.parametrize("noise", [(1, 0, 0), (0, 10, 0), (0, 0, 10), (0.5, 10, 10)],
                         ids=["seeds", "items", "interaction", "mixed"])
def test_intervals_cover_95_percent_of_simulated_studies(seeds, noise):
    """Coverage of the true effect by the 95% interval, over 1,500 simulated studies of 400 test items with known
    seed, item and seed x item noise: within 93-97% whichever dominates (adding the two half-widths in quadrature
    gave 100% with pure interaction, since the seeds' spread already holds it)."""
    rng = np.random.default_rng(seeds)
    items, resamples = 400, 150
    W = np.vstack([np.ones(items), rng.multinomial(items, np.full(items, 1 / items), resamples)])
    hits = [(lambda iv: iv["low"] <= 1.0 <= iv["high"])(interval(_study_of(seeds, items, *noise, rng, W)))
            for _ in range(1500)]
    assert 0.93 <= np.mean(hits) <= 0.97


def test_interval_parts_seeds_and_items():
    rng = np.random.default_rng(0)
    noise = lambda: np.r_[0.0, rng.normal(0, 1.0, 4000)]                                  # row 0: the full test set
    one = interval({1: 4.0 + noise()})
    assert one["se_seeds"] == 0 and abs(one["se_items"] - 1.0) < 0.05 and one["df"] == float("inf")
    assert abs(one["high"] - one["effect"] - 1.96) < 0.1                                   # one seed: the test set only
    three = {s: v + noise() for s, v in ((1, 3.0), (2, 4.0), (3, 5.0))}                    # independent noise per seed
    iv = interval(three)
    assert iv["effect"] == 4.0 and abs(iv["se_seeds"] - 1.0 / np.sqrt(3)) < 1e-9
    assert iv["se_items"] < 0.1                    # seed-specific resample noise is interaction: the seeds hold it
    shared = rng.normal(0, 1.0, 4001)
    iv = interval({s: v + shared for s, v in ((1, 3.0), (2, 4.0), (3, 5.0))})              # item noise shared by seeds
    assert abs(iv["se_items"] - 1.0) < 0.05 and 2 < iv["df"] < 1e6
    half = iv["high"] - iv["effect"]
    assert abs(half - t_quantile(0.975, iv["df"]) * np.hypot(iv["se_seeds"], iv["se_items"])) < 1e-9


def test_clear_effects_as_the_paper_states_them_hold():
    res = assessed()
    assert {i: f["verdict"] for i, f in res.items()} == {1: "holds", 2: "holds", 3: "holds", 4: "holds", 5: "holds"}
    at_chance = res[2]["parts"][0]
    assert at_chance["claim"].startswith("(VGS, W2V2) ends at chance")
    assert at_chance["verdict"] == "no effect" and at_chance["agrees"]
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
    res = assessed(abx=dict(ABX, W2V2=5, **{"(VGS+, VGS)": 5}), seed_sd=0.1)                 # VGS and W2V2 equal
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
        assert res[i]["verdict"] == "not testable here" and "w2v2_ssl (not passed" in res[i]["reason"]
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
    checks = {c["id"]: c for c in checked(data, ev)}
    assert set(checks) == {"w2v2_ssl", "vgsplus_ssl", "vgs_recall", "vgsplus_recall", "w2v2_abx", "vgs_abx",
                           "w2v2_ssl_switch", "vgs_recall_switch", "vgsplus_recall_switch", "vgsplus_ssl_switch"}
    assert all(c["status"] == ("reading" if k in READINGS else "passed") and set(c["per_seed"]) == {"1", "2", "3"}
               for k, c in checks.items())
    ep = data.epochs
    ep.loc[(ep.scenario == "VGS+") & (ep.seed == 2), "val_accuracy"] = 0.01               # one seed fails
    checks = {c["id"]: c for c in checked(data, ev)}
    assert checks["vgsplus_ssl"]["status"] == "not passed" and "seed(s) 2" in checks["vgsplus_ssl"]["reason"]


def test_a_reading_below_its_bar_says_so_and_gates_no_finding():
    data = simulated_study(RECALL, ABX, JUMPS, **CLEAR)
    ep = data.epochs
    ep.loc[(ep.scenario == "VGS+") & (ep.epoch == 2), "val_accuracy"] = 0.2               # VGS+ SSL at the switch: 6x
    ev = Evidence(data, n_boot=100)
    checks = checked(data, ev)
    reading = next(c for c in checks if c["id"] == "vgsplus_ssl_switch")
    assert reading["status"] == "reading" and reading["passed"] is None and reading["margin"] < 1
    assert reading["reason"].startswith(READINGS["vgsplus_ssl_switch"]) and "below the bar for seed(s) 1" in reading["reason"]
    assert not any("vgsplus_ssl_switch" in f.needs for f in FINDINGS)
    assert all(f["verdict"] != "not testable here" for f in findings(ev, checks))


def test_checks_read_exactly_the_last_epoch_and_abx_must_beat_mfcc():
    data = simulated_study(RECALL, ABX, JUMPS, **CLEAR)
    ev = Evidence(data, n_boot=50)
    ep = data.epochs
    data.epochs = ep[~((ep.scenario == "W2V2") & (ep.seed == 3) & (ep.epoch == 6))]     # its last epoch is missing
    checks = {c["id"]: c for c in checked(data, ev)}
    assert checks["w2v2_ssl"]["status"] == "not passed" and "seed(s) 3" in checks["w2v2_ssl"]["reason"]
    assert checks["w2v2_ssl_switch"]["status"] == "passed"                                # epoch 2 is there
    checks = {c["id"]: c for c in learning_checks(data, ev, CFG, {"within": 2.0, "across": 4.0})}
    assert checks["w2v2_abx"]["status"] == "not passed" and checks["vgs_abx"]["status"] == "not passed"   # 12%, 5%
    assert checks["w2v2_abx"]["reference"] == 4.0
    no_mfcc = {c["id"]: c for c in learning_checks(data, ev, CFG)}
    assert no_mfcc["vgs_abx"]["status"] == "not testable" and "MFCC" in no_mfcc["vgs_abx"]["reason"]


def test_a_check_at_the_switch_failing_makes_the_findings_on_it_not_testable():
    res = assessed(at_switch={"VGS": 2.0})               # VGS had not learned retrieval at the switch (2x chance)
    for i in (2, 5):
        assert res[i]["verdict"] == "not testable here"
        assert re.search(r"vgs_recall_switch \(not passed for seed\(s\) 1 \([12]\.\dx chance\), 2 \([12]\.\dx chance\), "
                         r"3 \([12]\.\dx chance\)\)", res[i]["reason"])            # each failing seed's own ratio
    assert res[1]["verdict"] == "holds" and res[3]["verdict"] == "holds"      # W2V2-first, and VGS+ -> VGS


def test_finding_5_compares_with_the_base_run_at_the_same_checkpoint():
    "Phase A still improving (ABX of the base runs falling by 6 points after the switch) is not a jump."
    res = assessed(jumps={}, drift={"VGS": -6.0, "VGS+": -6.0, "W2V2": -6.0})
    parts = {p["claim"].split(":")[0]: p for p in res[5]["parts"]}
    assert all(abs(p["effect"]) < 0.5 for p in parts.values())
    assert parts["(W2V2, VGS)"]["verdict"] == "no effect" and parts["(VGS, W2V2)"]["verdict"] == "no effect"
    assert res[5]["verdict"] == "does not hold"                      # no rise where the paper has one


def test_finding_5_reports_whether_the_close_up_points_agree():
    data = simulated_study(RECALL, ABX, {"(VGS, W2V2)": {0.25: 7.0, 0.5: 0.0}, "(VGS+, W2V2)": 5}, **CLEAR)
    rows = {r["claim"].split(":")[0]: r for r in closeup_agreement(Evidence(data, n_boot=200), (0.25, 0.5))}
    assert rows["(VGS, W2V2)"]["at"][0.25]["verdict"] == "holds" and rows["(VGS, W2V2)"]["at"][0.5]["verdict"] == "no effect"
    assert not rows["(VGS, W2V2)"]["agree"] and rows["(VGS+, W2V2)"]["agree"]


def test_finding_2_measures_forgetting_against_the_switch():
    "VGS+ had 46% at the switch and 70% at the end; (VGS+, W2V2) ends at 45%: it forgot 1 point, not 25."
    res = assessed(dict(RECALL, **{"VGS+": 70, "(VGS+, W2V2)": 45}), at_switch={"VGS+": 46})
    forgot = res[2]["parts"][1]
    assert "at the switch" in forgot["claim"] and abs(forgot["effect"] - 1.0) < 1.5
    assert forgot["verdict"] != "holds" and res[2]["verdict"] != "holds"


def test_finding_1_best_retrieval_is_decided_pair_by_pair():
    res = assessed(dict(RECALL, **{"(VGS+, VGS)": 90}))             # a VGS+-first run retrieves best
    parts = {p["claim"]: p for p in res[1]["parts"]}
    against = parts["the better W2V2-first run ((W2V2, VGS)) retrieves better than (VGS+, VGS)"]
    assert against["verdict"] == "reversed" and res[1]["verdict"] == "does not hold"
    assert len(res[1]["parts"]) == 9                                  # 4 against VGS and VGS+, 5 more pairs


def test_a_finding_does_not_hold_only_beyond_its_family_wise_bound():
    "A part against the statement at 95% but not at 99% (Bonferroni over 5 parts) leaves the finding inconclusive."
    from vgs_study.findings import Finding, Part, assess
    rng = np.random.default_rng(0)
    fixed = lambda effect: (lambda ev: {1: np.r_[effect, effect + rng.normal(0, 1.0, 4000)]})
    against = Part("against", fixed(-4.3), "recall", ())             # 95%: [-6.3, -2.3]; 99%: [-6.9, -1.7]
    agreeing = [Part(f"agrees {i}", fixed(8.0), "recall", ()) for i in range(4)]
    ev = Evidence(simulated_study(RECALL, ABX, JUMPS, **CLEAR), n_boot=10)
    five = assess(Finding(9, "five parts", (against, *agreeing), ()), ev, [])
    assert five["parts"][0]["verdict"] == "reversed" and not five["parts"][0]["against_family"]
    assert five["verdict"] == "inconclusive"
    assert assess(Finding(9, "one part", (against,), ()), ev, [])["verdict"] == "does not hold"

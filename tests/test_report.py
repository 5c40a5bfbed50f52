"""The report's numbers: every run's summary as one long table, means and intervals over seeds, and the tables read
from it."""
import math
import numpy as np
from vgs_study.report import _md, table1, table2
from vgs_study.results import nested, nested_summary, over_seeds, scenario_results, summary_table

T975 = {1: 12.706204736, 2: 4.302652730}      # Student's t, 97.5% quantile (published tables), by degrees of freedom


def run(r10, r5, error, layer, init_error=45.0):
    "One run's summary as `evaluate.summarise_run` writes it: each metric's rows {key: number}."
    return {"epochs": 6, "init": {"abx": {"across/error": init_error, "across/layer": 1}},
            "recall": {"test/speech_to_image/1": r10 / 4, "test/speech_to_image/10": r10, "test/speech_to_image/5": r5},
            "abx": {"across/error": error, "across/layer": layer, "across/by_layer/1": error + 5,
                    "across/by_layer/2": error}}


PER_SEED = {"VGS": {1: run(40.0, 20.0, 9.0, 4), 2: run(44.0, 22.0, 10.0, 3), 3: run(39.0, 21.0, 11.0, 3)},
            "W2V2": {1: run(1.0, 0.5, 8.0, 4), 2: run(2.0, 0.7, 8.5, 2)}}


def test_summary_table_has_a_row_per_number():
    t = summary_table(PER_SEED)
    assert list(t.columns) == ["scenario", "seed", "stage", "metric", "key", "value"]
    # per run: 3 recall numbers + error, layer and 2 by_layer for ABX at the end, error and layer at init
    assert len(t) == 5 * (3 + 4 + 2)
    row = t[(t.scenario == "VGS") & (t.seed == 2) & (t.key == "test/speech_to_image/10")]
    assert row.value.tolist() == [44.0] and row.stage.tolist() == ["end"] and row.metric.tolist() == ["recall"]


def test_over_seeds_is_a_mean_and_a_t_interval_per_number():
    s = over_seeds(summary_table(PER_SEED)).set_index(["stage", "scenario", "metric", "key"])
    r = s.loc[("end", "VGS", "recall", "test/speech_to_image/10")]
    v = np.array([40.0, 44.0, 39.0])
    assert math.isclose(r["mean"], v.mean()) and r["n"] == 3
    assert math.isclose(r["ci95"], T975[2] * v.std(ddof=1) / math.sqrt(3), rel_tol=1e-3)   # t tabulated to 3 decimals
    w = s.loc[("end", "W2V2", "recall", "test/speech_to_image/10")]
    assert math.isclose(w["ci95"], T975[1] * np.std([1.0, 2.0], ddof=1) / math.sqrt(2), rel_tol=1e-3)
    # a layer is an index: its most common value over seeds (VGS: 4, 3, 3 -> 3), the smaller one on a tie (W2V2: 4, 2)
    assert s.loc[("end", "VGS", "abx", "across/layer"), "mean"] == 3
    assert s.loc[("end", "W2V2", "abx", "across/layer"), "mean"] == 2
    assert s.loc[("init", "VGS", "abx", "across/error"), "mean"] == 45.0


def test_a_missing_or_nan_number_is_left_out_of_its_mean():
    per_seed = {"VGS": {1: run(40.0, 20.0, 9.0, 4), 2: run(float("nan"), 22.0, 10.0, 3)}}
    s = over_seeds(summary_table(per_seed)).set_index(["stage", "scenario", "metric", "key"])
    r = s.loc[("end", "VGS", "recall", "test/speech_to_image/10")]
    assert r["mean"] == 40.0 and r["n"] == 1


def test_results_json_keeps_each_metric_s_own_nesting_and_key_order():
    stats = over_seeds(summary_table(PER_SEED))
    res = scenario_results(PER_SEED, stats, ["recall", "abx", "cka"])
    vgs = res["VGS"]
    assert list(vgs) == ["epochs", "recall", "abx", "ci95"]           # cka: not scored, so not there
    assert list(vgs["recall"]["test"]["speech_to_image"]) == ["1", "5", "10"]
    assert list(vgs["abx"]["across"]) == ["error", "layer", "by_layer"]
    assert vgs["abx"]["across"]["layer"] == 3 and vgs["ci95"]["abx"]["across"]["layer"] is None
    assert math.isclose(vgs["abx"]["across"]["by_layer"]["1"], 15.0)
    w2v2_init = stats[(stats.scenario == "W2V2") & (stats.stage == "init")]
    assert nested(w2v2_init) == {"across": {"error": 45.0, "layer": 1}}
    assert nested_summary(PER_SEED["VGS"][1])["abx"]["across"] == {"error": 9.0, "layer": 4, "by_layer": {"1": 14.0, "2": 9.0}}
    assert nested_summary(PER_SEED["VGS"][1])["init"] == {"abx": {"across": {"error": 45.0, "layer": 1}}}


def test_tables_read_their_cells_from_the_long_table():
    stats = over_seeds(summary_table(PER_SEED))
    head, rows = table1(stats, {"speech_to_image": {1: 1.0, 5: 5.0, 10: 10.0}})
    by_model = {r[0]: r for r in rows}
    assert list(by_model)[:2] == ["W2V2", "VGS"]                        # the paper's order
    half = T975[2] * np.std([40, 44, 39], ddof=1) / 3 ** 0.5
    assert by_model["VGS"][head.index("S->I R@10")] == f"41.0 ± {half:.1f}"
    assert by_model["VGS"][head.index("I->S R@10")] == "-"              # not scored: a dash, never nan
    assert by_model["chance"][head.index("S->I R@10")] == "10.0"
    head, rows = table2(stats)
    vgs = next(r for r in rows if r[0] == "VGS")
    assert vgs[head.index("A-C (layer)")] == "10.00 ± 2.48 (3)" and vgs[head.index("W-C (layer)")] == "-"
    init = next(r for r in rows if r[0].startswith("random initialisation"))
    assert init[head.index("A-C (layer)")] == "45.00 ± 0.00 (1)"   # W2V2's epoch 0: first in the paper's order
    assert "| VGS | - | 10.00 ± 2.48 (3) |" in _md(head, rows)

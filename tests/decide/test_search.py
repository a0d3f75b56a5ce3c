"""Acceptance 5 of issue 15 (bad input), and the search grid: keys, values, candidates."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

import costsim as cs
from costsim.decide import optimize
from costsim.decide.search import MAX_CANDIDATES, candidates, parse_search

RUN = {"trials": 3, "seed": 1}


def _error(excinfo) -> str:
    return str(excinfo.value)


# --- unknown option or parameter, empty grid, too large a grid ---------------------

def test_unknown_option_names_the_key_and_the_options(traffic, options):
    with pytest.raises(cs.ParameterError) as err:
        optimize(traffic, options, {"ptux.units": [1, 2]}, **RUN)
    assert "search['ptux.units'] names option 'ptux', which is not among the options ['api', 'capped', 'ptu']" \
        in _error(err)


def test_unknown_parameter_names_the_option_and_its_parameters(traffic, options):
    with pytest.raises(cs.ParameterError) as err:
        optimize(traffic, options, {"ptu.unit": [1, 2]}, **RUN)
    message = _error(err)
    assert "search['ptu.unit'] names parameter 'unit'" in message
    assert "options['ptu'] (ProvisionedCapacity)" in message and "'units'" in message


def test_malformed_keys_are_refused(traffic, options):
    for key in ("ptu", "ptu.", 3, ()):
        with pytest.raises(cs.ParameterError, match="search"):
            optimize(traffic, options, {key: [1]}, **RUN)


@pytest.mark.parametrize("search", [{}, {"ptu.units": []}, {"ptu.units": range(0)}])
def test_empty_grid_is_refused(traffic, options, search):
    with pytest.raises(cs.ParameterError, match="empty grid has no candidate"):
        optimize(traffic, options, search, **RUN)


def test_values_must_be_a_sequence(traffic, options):
    for values in (3, "123", {"a": 1}):
        with pytest.raises(cs.ParameterError, match=re.escape("search['ptu.units'] must be a sequence")):
            optimize(traffic, options, {"ptu.units": values}, **RUN)


def test_a_grid_above_the_cap_is_refused_before_any_work(traffic, options):
    search = {"ptu.units": range(1, 101), "ptu.price_per_unit_hour": np.linspace(0.1, 1.0, 101)}
    with pytest.raises(cs.ParameterError, match=f"at most {MAX_CANDIDATES:,} candidates.*100 x 101.*; got 10100"):
        optimize(traffic, options, search, **RUN)
    with pytest.raises(cs.ParameterError, match="at most 5 candidates"):
        optimize(traffic, options, {"ptu.units": range(1, 7)}, max_candidates=5, **RUN)


def test_a_value_that_breaks_a_rule_names_the_key_the_option_and_the_rule(traffic, options):
    with pytest.raises(cs.ParameterError) as err:
        optimize(traffic, options, {"ptu.units": [1, 0]}, **RUN)
    assert _error(err) == ("search['ptu.units'] holds a value that options['ptu'] refuses (ProvisionedCapacity: "
                           "units must be >= 1; got 0); got 0")


def test_linked_min_and_max_replicas_change_together(traffic):
    gpu = cs.SelfHostedGPU(gpu_hour_price=1.0, prefill_tokens_per_s=5e3, decode_tokens_per_s=500,
                           min_replicas=1, max_replicas=2, fallback="api")
    options = {"api": cs.TokenPricing(input=3.0, output=15.0), "gpu": gpu}
    # min 4 with the base's max 2 would be refused one at a time: the pair is applied at once
    result = optimize(traffic, options, {"gpu.min_replicas,gpu.max_replicas": [(1, 2), (4, 8)]}, **RUN)
    assert list(result.best) == ["gpu.min_replicas,gpu.max_replicas"]
    assert result.dataset["gpu.min_replicas"].values.tolist() == [1, 4]
    with pytest.raises(cs.ParameterError, match=r"max_replicas must be >= min_replicas \(4\); got 2"):
        optimize(traffic, options, {"gpu.min_replicas": [4], "gpu.max_replicas": [2]}, **RUN)
    with pytest.raises(cs.ParameterError, match="must hold tuples of 2 values"):
        optimize(traffic, options, {("gpu.min_replicas", "gpu.max_replicas"): [1, 2]}, **RUN)
    with pytest.raises(cs.ParameterError, match="which search\\['gpu.max_replicas'\\] searches already"):
        optimize(traffic, options, {"gpu.max_replicas": [2], ("gpu.min_replicas", "gpu.max_replicas"): [(1, 2)]},
                 **RUN)


def test_per_request_models_cannot_be_searched(traffic, options):
    with pytest.raises(cs.ParameterError, match="per-request model priced inside the simulation kernel"):
        optimize(traffic, options, {"api.input": [1.0, 2.0]}, **RUN)
    inline = {**options, "ptu": dataclasses.replace(options["ptu"], fallback=cs.TokenPricing(input=3.0, output=15.0))}
    with pytest.raises(cs.ParameterError, match=re.escape("options['ptu'].fallback (TokenPricing), a per-request")):
        optimize(traffic, inline, {"ptu.fallback.input": [1.0]}, **RUN)


def test_a_candidate_that_changes_the_kernels_models_is_refused(traffic, options):
    other = cs.TokenPricing(input=1.0, output=2.0)
    with pytest.raises(ValueError, match="changes the per-request models the kernel prices.*options\\['ptu'\\]"):
        optimize(traffic, options, {"ptu.fallback": ["api", other]}, **RUN)


def test_a_fallback_may_switch_between_named_options(traffic, options):
    """Both APIs are priced by the one kernel run: which one takes the spill is billing."""
    named = {**options, "cheap": cs.TokenPricing(input=1.0, output=2.0)}
    result = optimize(traffic, named, {"ptu.fallback": ["api", "cheap"], "ptu.units": [1, 2]}, **RUN)
    assert result.best == {"ptu.fallback": "cheap", "ptu.units": 1}
    for i, (fallback, units) in enumerate([("api", 1), ("api", 2), ("cheap", 1), ("cheap", 2)]):
        alone = {**named, "ptu": dataclasses.replace(named["ptu"], fallback=fallback, units=units)}
        ds = cs.simulate(traffic, alone, **RUN)
        np.testing.assert_allclose(ds["cost"].sel(option="ptu").sum(("time", "qclass")),
                                   result.dataset["total_cost"][i], rtol=1e-12)


def test_nested_parameters_and_references(traffic):
    gpu = cs.SelfHostedGPU(gpu_hour_price=1.0, prefill_tokens_per_s=5e3, decode_tokens_per_s=500,
                           max_replicas=2, fallback="api")
    options = {"api": cs.TokenPricing(input=3.0, output=15.0), "gpu": gpu,
               "routed": cs.PromptRouter(thresholds=(2_000,), options=("gpu", gpu)),
               "hybrid": cs.Hybrid({"chat": gpu}, default="api")}
    grid = parse_search({"routed.options.1.max_replicas": [1, 3], "hybrid.routes.chat.max_replicas": [4]}, options)
    built = candidates(grid, options)
    assert [c["routed"].options[1].max_replicas for c in built] == [1, 3]
    assert all(c["hybrid"].routes["chat"].max_replicas == 4 for c in built)
    assert built[0]["routed"].options[0] == "gpu"
    with pytest.raises(cs.ParameterError, match="a reference to option 'gpu': search 'gpu.max_replicas' instead"):
        parse_search({"routed.options.0.max_replicas": [1]}, options)
    with pytest.raises(cs.ParameterError, match="must index options\\['routed'\\].options with an integer below 2"):
        parse_search({"routed.options.5.max_replicas": [1]}, options)
    with pytest.raises(cs.ParameterError, match="names key 'agent'"):
        parse_search({"hybrid.routes.agent.max_replicas": [1]}, options)


def test_values_are_normalised_like_the_option_holds_them(traffic):
    options = {"api": cs.TokenPricing(input=3.0, output=15.0),
               "gpu": cs.SelfHostedGPU(gpu_hour_price=1.0, prefill_tokens_per_s=5e3, decode_tokens_per_s=500,
                                       fallback="api"),
               "routed": cs.PromptRouter(thresholds=(2_000,), options=("gpu", "api"))}
    grid = parse_search({"routed.thresholds": np.array([1_000, 4_000]), "gpu.max_replicas": np.arange(1, 3)},
                        options)
    assert grid.assignment((1, 0)) == {"routed.thresholds": (4_000,), "gpu.max_replicas": 1}
    assert type(grid.assignment((1, 1))["gpu.max_replicas"]) is int
    with pytest.raises(cs.ParameterError, match="must hold plain values"):
        parse_search({"gpu.gpu_hour_price": [cs.Uniform(1.0, 2.0)]}, options)


# --- which option is optimised -------------------------------------------------------

def test_the_option_must_be_clear(traffic, options):
    both = {**options, "commit": cs.CommittedSpend("ptu", monthly_minimum=10.0),
            "commit2": cs.CommittedSpend("ptu", monthly_minimum=20.0)}
    with pytest.raises(cs.ParameterError, match="option must name the option whose cost to optimise.*commit"):
        optimize(traffic, both, {"ptu.units": [1, 2]}, **RUN)
    result = optimize(traffic, both, {"ptu.units": [1, 2]}, option="commit2", **RUN)
    assert result.option == "commit2"
    with pytest.raises(cs.ParameterError, match="option must name an option that uses every searched option"):
        optimize(traffic, both, {"ptu.units": [1, 2]}, option="api", **RUN)
    with pytest.raises(cs.ParameterError, match="option must name one of the options"):
        optimize(traffic, both, {"ptu.units": [1, 2]}, option="nope", **RUN)


# --- objectives and constraints ------------------------------------------------------

@pytest.mark.parametrize("objective, message", [
    ("median", re.escape("objective must be 'mean', ('quantile', q), ('cvar', level) or ('mean+cvar', lam, level); "
                         "got 'median'")),
    (("quantile",), "objective must be 'mean'"),
    (("quantile", 1.0), r"objective\[1\] \(the quantile level\) must be in \(0, 1\); got 1.0"),
    (("cvar", -0.1), r"objective\[1\] \(the CVaR level\) must be in \[0, 1\); got -0.1"),
    (("mean+cvar", -1.0, 0.9), r"objective\[1\] \(the weight lambda of the CVaR\) must be >= 0; got -1.0"),
    (3.0, "objective must be"),
])
def test_bad_objectives(traffic, options, objective, message):
    with pytest.raises(cs.ParameterError, match=message):
        optimize(traffic, options, {"ptu.units": [1, 2]}, objective=objective, **RUN)


@pytest.mark.parametrize("constraints, message", [
    ({"throttle": 0.1}, "constraints must have keys among"),
    ({"throttled_share": 1.5}, r"constraints\['throttled_share'\] must be in \[0, 1\]; got 1.5"),
    ({"budget": 100.0}, r"constraints\['budget'\] must be \(USD, probability\)"),
    ({"budget": (100.0, 2.0)}, r"constraints\['budget'\]\[1\] \(probability\) must be in \[0, 1\]"),
    ({"utilisation": -0.5}, r"constraints\['utilisation'\] must be in \[0, 1\]"),
    ([("budget", 1.0)], "constraints must be a mapping"),
])
def test_bad_constraints(traffic, options, constraints, message):
    with pytest.raises(cs.ParameterError, match=message):
        optimize(traffic, options, {"ptu.units": [1, 2]}, constraints=constraints, **RUN)


def test_infeasible_constraints_return_the_least_violating_candidate_with_a_warning(traffic, options):
    # "capped" throttles what 1..3 units cannot serve: no candidate throttles nothing
    with pytest.warns(UserWarning, match="no candidate meets the constraints.*throttled share of requests <= 0"):
        result = optimize(traffic, options, {"capped.units": [1, 2, 3]}, constraints={"throttled_share": 0.0},
                          **RUN)
    ds = result.dataset
    assert not result.feasible and not ds["feasible"].values.any()
    share = ds["throttled_share"].values
    assert share.min() > 0 and result.best == {"capped.units": 3} and share[2] == share.min()
    np.testing.assert_allclose(ds["violation"].values, share)
    assert "least violating" in result.summary()


def test_a_throttling_constraint_that_some_candidates_meet(traffic, options):
    free = optimize(traffic, options, {"capped.units": range(1, 13)}, **RUN)
    share = free.dataset["throttled_share"].values
    limit = float(np.median(share[share > 0]))  # some candidates meet it, some do not
    result = optimize(traffic, options, {"capped.units": range(1, 13)}, constraints={"throttled_share": limit},
                      **RUN)
    ok = result.dataset["feasible"].values
    np.testing.assert_array_equal(ok, share <= limit)
    assert 0 < ok.sum() < ok.size and ok[result.best_index]
    # the cheapest of the feasible ones (throttled traffic is not billed, so fewer units are cheaper)
    mean = result.dataset["mean_cost"].values
    assert result.best_index == int(np.argmin(np.where(ok, mean, np.inf)))
    assert free.best == {"capped.units": 1}


@pytest.mark.parametrize("values", [[3, 1, 2], [2, 3, 1]])
def test_ties_go_to_the_first_candidate_in_the_grid(traffic, options, values):
    # free units, every candidate throttles nothing once it has enough: the costs tie wherever no query spills
    free = {**options, "ptu": dataclasses.replace(options["ptu"], price_per_unit_hour=0.0, tokens_per_minute=1e9)}
    result = optimize(traffic, free, {"ptu.units": values}, option="ptu", **RUN)
    objective = result.dataset["objective"].values
    assert (objective == objective[0]).all()
    assert result.best == {"ptu.units": values[0]} and result.best_index == 0

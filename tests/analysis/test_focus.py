"""FOCUS-shaped export."""

import json

import numpy as np
import pandas as pd
import pytest

from costsim.analysis import FOCUS_COLUMNS, to_focus

# the columns FOCUS 1.2 makes mandatory for every cost and usage row
MANDATORY = {
    "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd",
    "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodEnd",
    "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost", "PricingQuantity",
    "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName",
}


def test_one_trial_has_every_mandatory_column_and_sums_to_the_total(ds):
    table = to_focus(ds, trial=3)
    assert MANDATORY <= set(table.columns) and set(FOCUS_COLUMNS) <= set(table.columns)
    assert len(table) == ds.sizes["time"] * ds.sizes["option"] * ds.sizes["qclass"]
    assert not table.duplicated(["ChargePeriodStart", "x_Option", "x_QueryClass"]).any()
    totals = table.groupby("x_Option")["BilledCost"].sum()
    for option in ds["option"].values:
        assert totals[option] == pytest.approx(float(ds.costsim.total().sel(trial=3, option=option)), rel=1e-12)
    for column in ("EffectiveCost", "ListCost", "ContractedCost"):
        np.testing.assert_array_equal(table[column], table["BilledCost"])
    assert set(table["ServiceCategory"]) == {"AI and Machine Learning"}
    assert set(table["ServiceSubcategory"]) == {"Generative AI"}
    assert set(table["ChargeCategory"]) == {"Usage"}
    assert set(table["BillingCurrency"]) == {"USD"}


def test_periods_tags_and_quantities(ds):
    table = to_focus(ds, trial=0, providers={"big": "Anthropic"})
    assert (table["ChargePeriodEnd"] - table["ChargePeriodStart"] == pd.Timedelta("1h")).all()
    assert str(table["ChargePeriodStart"].dt.tz) == "UTC"
    assert (table["BillingPeriodStart"] == pd.Timestamp("2026-01-01", tz="UTC")).all()
    assert (table["BillingPeriodEnd"] == pd.Timestamp("2026-02-01", tz="UTC")).all()
    tags = table["Tags"].map(json.loads)
    assert (tags.map(lambda t: t["qclass"]) == table["x_QueryClass"]).all()
    assert (tags.map(lambda t: t["option"]) == table["x_Option"]).all()
    big = table[table["x_Option"] == "big"]
    assert set(big["ProviderName"]) == {"Anthropic"} and set(big["ServiceName"]) == {"big"}
    tokens = int((ds["input_tokens"] + ds["output_tokens"]).sel(trial=0).sum())
    assert big["ConsumedQuantity"].sum() == tokens
    assert big["PricingQuantity"].sum() == pytest.approx(tokens / 1e6)
    assert big["x_Requests"].sum() == int(ds["requests"].sel(trial=0).sum())
    frequency = table.groupby("x_Option")["ChargeFrequency"].first()
    assert frequency.to_dict() == {"big": "Usage-Based", "gpu": "Recurring", "small": "Usage-Based"}


@pytest.mark.parametrize("q", [0.0, 0.5, 0.9, 1.0])
def test_a_quantile_exports_the_trial_at_that_quantile_of_total_cost(ds, q):
    table = to_focus(ds, quantile=q)
    total = ds.costsim.total()
    for option, rows in table.groupby("x_Option"):
        expected = np.quantile(total.sel(option=option).values, q, method="inverted_cdf")
        assert rows["BilledCost"].sum() == pytest.approx(expected, rel=1e-12)
        assert rows["x_Trial"].nunique() == 1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "pass exactly one of trial and quantile"),
        ({"trial": 1, "quantile": 0.5}, "pass exactly one of trial and quantile"),
        ({"trial": 99}, "trial must be one of the result's trials"),
        ({"quantile": 1.5}, r"quantile must be in \[0, 1\]"),
    ],
)
def test_rejects_bad_arguments(ds, kwargs, message):
    with pytest.raises(ValueError, match=message):
        to_focus(ds, **kwargs)

"""Export to a FOCUS-shaped table, so simulated and billed costs sit side by side.

FOCUS (FinOps Open Cost and Usage Specification, https://focus.finops.org) is the
column layout FinOps tools read.  :func:`to_focus` writes one row per (time bin,
option, query class) of one simulated scenario with every column FOCUS 1.2
requires of a row (``FOCUS_COLUMNS``), the AI categories, and the class and
option in ``Tags``.  What a simulation cannot know (account ids, invoice issuer)
is filled from arguments; a simulated charge is on no invoice, so ``InvoiceId``
is present and null, as FOCUS asks of such charges.  Units follow the FOCUS
UnitFormat ("1000000 Tokens": a whole-number quantity and a plural unit).
costsim-specific columns carry the ``x_`` prefix FOCUS reserves for extensions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from ._common import billed_tokens

__all__ = ["FOCUS_COLUMNS", "to_focus"]

#: The unit of PricingQuantity: FOCUS UnitFormat "<quantity> <plural unit>", the
#: quantity a whole number ("1M Tokens" breaks the format).
PRICING_UNIT = "1000000 Tokens"
TOKENS_PER_PRICING_UNIT = 1_000_000

#: The FOCUS 1.2 columns every row of a cost and usage dataset carries (the
#: mandatory ones, plus ServiceSubcategory, ChargeFrequency, Consumed* and Tags,
#: which apply to AI usage, and InvoiceId, recommended: null, no invoice).
FOCUS_COLUMNS = (
    "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency",
    "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription",
    "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart", "ConsumedQuantity", "ConsumedUnit",
    "ContractedCost", "EffectiveCost", "InvoiceId", "InvoiceIssuerName", "ListCost", "PricingQuantity", "PricingUnit",
    "ProviderName", "PublisherName", "ServiceCategory", "ServiceName", "ServiceSubcategory", "Tags",
)


def _pick_trials(ds: xr.Dataset, trial: int | None, quantile: float | None) -> dict[str, int]:
    """The trial (label) to export for each option."""
    options = [str(o) for o in ds["option"].values.tolist()]
    if (trial is None) == (quantile is None):
        raise ValueError(f"pass exactly one of trial and quantile; got trial={trial!r}, quantile={quantile!r}")
    if trial is not None:
        labels = ds["trial"].values.tolist()
        if trial not in labels:
            raise ValueError(f"trial must be one of the result's trials {labels[:5]}...; got {trial!r}")
        return {o: trial for o in options}
    q = float(quantile)
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile must be in [0, 1]; got {quantile!r}")
    totals = ds.costsim.total().transpose("trial", "option").values
    n = totals.shape[0]
    rank = min(max(int(np.ceil(q * n)) - 1, 0), n - 1)  # the inverted-CDF order statistic
    order = np.argsort(totals, axis=0, kind="stable")
    return {o: ds["trial"].values[order[rank, j]].item() for j, o in enumerate(options)}


def to_focus(
    ds: xr.Dataset,
    *,
    trial: int | None = None,
    quantile: float | None = None,
    billing_account: str = "costsim-simulation",
    providers: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One simulated scenario as a FOCUS 1.2-shaped cost table.

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`costsim.simulate` result.
    trial : int, optional
        Export this trial (its label in ``ds["trial"]``).
    quantile : float, optional
        Instead of ``trial``: export, for each option, the trial whose total cost
        is that quantile across trials (the inverted-CDF order statistic: a real
        trial, so its rows are one coherent scenario and sum to that quantile of
        the total; options may come from different trials, see ``x_Trial``).
    billing_account : str
        BillingAccountId and BillingAccountName.
    providers : mapping of option name to str, optional
        ProviderName, PublisherName and InvoiceIssuerName of each option (default:
        the option's name).

    Returns
    -------
    pandas.DataFrame
        One row per (time bin, option, query class), columns ``FOCUS_COLUMNS`` and
        ``x_Trial``, ``x_Option``, ``x_QueryClass``, ``x_Requests``.  All four
        costs (Billed, Effective, List and Contracted) are the simulated cost
        (list prices, no discounts modelled).  Usage is measured in tokens:
        ConsumedQuantity counts the tokens billed (prompt, output, reasoning),
        PricingQuantity the same in millions (PricingUnit "1000000 Tokens").  InvoiceId is null: a simulated
        charge is associated with no invoice.  Options priced per time bin have
        ChargeFrequency "Recurring", the others "Usage-Based".  Periods are UTC;
        the billing period is the calendar month of the charge.

    Examples
    --------
    >>> import costsim as cs
    >>> ds = cs.simulate(cs.demo.demo_traffic(days=1, volume=2_000), cs.demo.demo_options(), trials=4, seed=1)
    >>> table = cs.analysis.to_focus(ds, trial=2)
    >>> len(table) == ds.sizes["time"] * ds.sizes["option"] * ds.sizes["qclass"]
    True
    >>> bool(np.isclose(table["BilledCost"].sum(), float(ds.costsim.total().sel(trial=2).sum())))
    True
    >>> table.loc[0, "Tags"]
    '{"qclass": "chat", "option": "frontier"}'
    """
    picks = _pick_trials(ds, trial, quantile)
    providers = dict(providers or {})
    width = pd.Timedelta(ds.attrs.get("bin_width", "1h"))
    per_request = (ds["per_request_cost"].values.tolist() if "per_request_cost" in ds.coords
                   else [True] * ds.sizes["option"])
    frames = []
    for option, flag in zip(picks, per_request):
        one = ds.sel(trial=picks[option], option=option)
        cost = one["cost"].transpose("time", "qclass")
        tokens = billed_tokens(one).transpose("time", "qclass")
        requests = one["requests"].transpose("time", "qclass")
        starts = pd.DatetimeIndex(cost["time"].values).tz_localize("UTC")
        classes = [str(c) for c in cost["qclass"].values.tolist()]
        n_t, n_c = cost.shape
        start = np.repeat(starts, n_c)
        qclass = np.tile(classes, n_t)
        month = start.tz_localize(None).to_period("M").to_timestamp().tz_localize("UTC")
        usd = cost.values.ravel()
        provider = providers.get(option, option)
        frames.append(pd.DataFrame({
            "BilledCost": usd,
            "BillingAccountId": billing_account,
            "BillingAccountName": billing_account,
            "BillingCurrency": "USD",
            "BillingPeriodEnd": month + pd.offsets.MonthBegin(1),
            "BillingPeriodStart": month,
            "ChargeCategory": "Usage",
            "ChargeClass": None,
            "ChargeDescription": [f"Simulated {c} queries on {option}" for c in qclass],
            "ChargeFrequency": "Usage-Based" if flag else "Recurring",
            "ChargePeriodEnd": start + width,
            "ChargePeriodStart": start,
            "ConsumedQuantity": tokens.values.ravel().astype(float),
            "ConsumedUnit": "Tokens",
            "ContractedCost": usd,
            "EffectiveCost": usd,
            "InvoiceId": None,  # FOCUS: null for a charge not associated with an invoice
            "InvoiceIssuerName": provider,
            "ListCost": usd,
            "PricingQuantity": tokens.values.ravel() / TOKENS_PER_PRICING_UNIT,
            "PricingUnit": PRICING_UNIT,
            "ProviderName": provider,
            "PublisherName": provider,
            "ServiceCategory": "AI and Machine Learning",
            "ServiceName": option,
            "ServiceSubcategory": "Generative AI",
            "Tags": [json.dumps({"qclass": c, "option": option}) for c in qclass],
            "x_Trial": picks[option],
            "x_Option": option,
            "x_QueryClass": qclass,
            "x_Requests": requests.values.ravel(),
        }))
    return pd.concat(frames, ignore_index=True)

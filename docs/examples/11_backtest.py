"""
Backtest: each pilot's band against the cost the log really had
===============================================================

``plot_backtest(cs.backtest(log, pricing, pilot=..., origins=...))``: each column is one
pilot window of the log, fitted and projected over the rest of the log; the bands
(50% dark, 90% light), the median and the naive extrapolations are divided by the
cost the log billed over that horizon, so a band covers where it crosses the line at 1.
The log here has a level that wanders (its rate drifts from hour to hour), so some
pilots see a busier or quieter stretch than the rest.
"""
import numpy as np
import pandas as pd

import costsim as cs
from costsim.plot import plot_backtest

rng = np.random.default_rng(3)
hours = 8
level = np.exp(np.cumsum(rng.normal(0.0, 0.08, hours * 6)))  # the rate's level, per 10 minutes
parts = []
for k, f in enumerate(level):
    n = rng.poisson(600 * f)
    parts.append(pd.DataFrame({"timestamp": pd.Timestamp("2026-03-02T08:00")
                               + pd.to_timedelta(rng.uniform(600 * k, 600 * (k + 1), n), unit="s"),
                               "input_tokens": np.round(rng.lognormal(7.0, 0.9, n)),
                               "output_tokens": np.round(rng.lognormal(5.0, 0.6, n))}))
log = pd.concat(parts).sort_values("timestamp")
bt = cs.backtest(log, cs.TokenPricing(input=3.0, output=15.0), pilot=0.1, origins=10, trials=100,
                 fit_options={"families": ["LogNormal"], "segments": 1})
ax = plot_backtest(bt)

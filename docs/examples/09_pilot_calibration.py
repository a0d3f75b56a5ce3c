"""
From a pilot log: how well the fit matches, and the pilot gap
=============================================================

A two-hour pilot of 3,000 chat and RAG queries (drawn here from the demo's classes;
read your own log with ``cs.calibrate.read_log``) is fitted with ``cs.fit_traffic``.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import costsim as cs
from costsim.demo import demo_traffic
from costsim.plot import plot_pilot_gap, plot_qq

rng = np.random.default_rng(11)
classes = {qc.name: qc for qc in demo_traffic(days=1).classes}
parts = []
for name, n in (("chat", 2_200), ("rag", 800)):
    parts.append(pd.DataFrame({
        "timestamp": pd.Timestamp("2026-03-02T09:00") + pd.to_timedelta(rng.uniform(0, 7200, n), unit="s"),
        "input_tokens": np.round(classes[name].input_tokens.sample(n, rng=rng)),
        "output_tokens": np.round(classes[name].output_tokens.sample(n, rng=rng)),
        "qclass": name,
    }))
log = pd.concat(parts).sort_values("timestamp", kind="stable")
fit = cs.fit_traffic(log)

# %%
# How well the fit matches the log: a QQ plot
# -------------------------------------------
# ``plot_qq(fit, column, qclass=...)``: the log's quantiles against the fitted
# distribution's, on log axes; points on the diagonal mean a good fit, and the title
# gives the KS distance.

fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
plot_qq(fit, "input_tokens", qclass="rag", ax=axes[0])
plot_qq(fit, "output_tokens", qclass="rag", ax=axes[1])

# %%
# The pilot gap: naive extrapolation against the simulated production distribution
# ---------------------------------------------------------------------------------
# ``plot_pilot_gap(cs.pilot_gap(fit, pricing, traffic=cs.project(fit, ...)))``: the
# distribution of a month's production cost (volume, growth and the pilot's own
# uncertainty carried to the trials) beside "pilot cost per query x production
# queries".

production = cs.project(fit, volume=cs.Uniform(20_000, 40_000), growth=cs.Uniform(0.0, 0.2), horizon="30D",
                        bin="1h")
gap = cs.pilot_gap(fit, cs.TokenPricing(input=3.0, output=15.0), traffic=production, trials=100)
ax = plot_pilot_gap(gap)

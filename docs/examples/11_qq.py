"""
How well a fit matches the pilot log: a QQ plot
===============================================

``plot_qq(fit, column, qclass=...)``: the log's quantiles against the fitted
distribution's, on log axes; points on the diagonal mean a good fit, and the title
gives the KS distance. The log is two hours of the demo's chat and RAG classes.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import costsim as cs
from costsim.demo import demo_traffic
from costsim.plot import plot_qq

# a two-hour pilot log of 3,000 chat and RAG queries, drawn from the demo's classes
# (read your own with cs.calibrate.read_log)
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

fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
plot_qq(fit, "input_tokens", qclass="rag", ax=axes[0])
plot_qq(fit, "output_tokens", qclass="rag", ax=axes[1])

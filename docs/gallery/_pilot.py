"""A pilot log for the calibration plots: two hours of the demo's chat and RAG
classes, drawn from their own distributions (no external data needed)."""
import functools

import numpy as np
import pandas as pd

import costsim as cs
from costsim.demo import demo_traffic


@functools.cache
def pilot_fit():
    """(log, fit) of a two-hour pilot of 3,000 chat and RAG queries."""
    rng = np.random.default_rng(11)
    classes = {qc.name: qc for qc in demo_traffic(days=1).classes}
    parts = []
    for name, n in (("chat", 2_200), ("rag", 800)):
        qc = classes[name]
        parts.append(pd.DataFrame({
            "timestamp": pd.Timestamp("2026-03-02T09:00") + pd.to_timedelta(rng.uniform(0, 7200, n), unit="s"),
            "input_tokens": np.round(qc.input_tokens.sample(n, rng=rng)),
            "output_tokens": np.round(qc.output_tokens.sample(n, rng=rng)),
            "qclass": name,
        }))
    log = pd.concat(parts).sort_values("timestamp", kind="stable")
    return log, cs.fit_traffic(log)

"""How well a fit matches the pilot log: a QQ plot

`plot_qq(fit, column, qclass=...)`: the log's quantiles against the fitted
distribution's, on log axes; points on the diagonal mean a good fit, and the title
gives the KS distance. The log is two hours of the demo's chat and RAG classes.
"""
import matplotlib.pyplot as plt
from _pilot import pilot_fit

from costsim.plot import plot_qq

log, fit = pilot_fit()
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
plot_qq(fit, "input_tokens", qclass="rag", ax=axes[0])
plot_qq(fit, "output_tokens", qclass="rag", ax=axes[1])

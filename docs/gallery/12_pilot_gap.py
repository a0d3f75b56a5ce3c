"""The pilot gap: naive extrapolation against the simulated production distribution

`plot_pilot_gap(cs.pilot_gap(fit, pricing, traffic=cs.project(fit, ...)))`: the
distribution of a month's production cost (volume, growth and the pilot's own
uncertainty carried to the trials) beside "pilot cost per query x production
queries".
"""
from _pilot import pilot_fit

import costsim as cs
from costsim.plot import plot_pilot_gap

log, fit = pilot_fit()
production = cs.project(fit, volume=cs.Uniform(20_000, 40_000), growth=cs.Uniform(0.0, 0.2), horizon="30D",
                        bin="1h")
gap = cs.pilot_gap(fit, cs.TokenPricing(input=3.0, output=15.0), traffic=production, trials=100)
ax = plot_pilot_gap(gap)

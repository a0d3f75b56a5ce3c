"""
The tail that averages hide: which queries carry the bill
=========================================================

The demo product (four query classes) over two weeks, priced by a frontier API. A
class that is a small share of the queries can carry most of the bill, and within a
class a few expensive queries carry much of its cost.
"""

import costsim as cs
from costsim.demo import demo_traffic
from costsim.plot import plot_class_shares, plot_lorenz, plot_request_cost_ccdf

options = {"frontier": cs.TokenPricing(input=3.0, output=15.0, cached_input=0.30)}  # USD per million tokens
ds = cs.simulate(demo_traffic(days=14, volume=20_000), options, trials=50, seed=7)

# %%
# Share of queries against share of cost, per class
# -------------------------------------------------
# ``plot_class_shares(ds, option=...)``: agents and long-context queries are few, and
# expensive.

ax = plot_class_shares(ds, option="frontier")

# %%
# The heavy tail of the cost of one query
# ---------------------------------------
# ``plot_request_cost_ccdf(ds, option=...)``: per class, the share of queries that cost
# more than x, on log-log axes, from the per-request cost histogram the kernel keeps.

ax = plot_request_cost_ccdf(ds, option="frontier")

# %%
# How much of the bill the priciest queries carry
# -----------------------------------------------
# ``plot_lorenz(ds, option=...)``: the Lorenz curve of per-query cost per class, with
# each class's Gini coefficient and the share of cost of the most expensive 1 % and
# 10 % of queries.

ax = plot_lorenz(ds, option="frontier")

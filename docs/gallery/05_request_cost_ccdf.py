"""The heavy tail of the cost of one query

`plot_request_cost_ccdf(ds, option=...)`: per class, the share of queries that cost
more than x, on log-log axes, from the per-request cost histogram the kernel keeps.
"""
from _shared import demo_result

from costsim.plot import plot_request_cost_ccdf

ax = plot_request_cost_ccdf(demo_result(), option="frontier")

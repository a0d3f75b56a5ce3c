"""Share of queries against share of cost, per class

`plot_class_shares(ds, option=...)`: a class that is a small share of the queries
can carry most of the bill (agents, long context).
"""
from _shared import demo_result

from costsim.plot import plot_class_shares

ax = plot_class_shares(demo_result(), option="frontier")

"""How much of the bill the priciest queries carry

`plot_lorenz(ds, option=...)`: the Lorenz curve of per-query cost per class, with each
class's Gini coefficient and the share of cost of the most expensive 1 % and 10 % of
queries.
"""
from _shared import demo_result

from costsim.plot import plot_lorenz

ax = plot_lorenz(demo_result(), option="frontier")

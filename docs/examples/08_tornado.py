"""
Which uncertain input drives the spread of cost
===============================================

``plot_tornado(cs.analysis.sensitivity(ds), option=..., labels=...)``: each uncertain
parameter's rank correlation with total cost, largest first, labelled with the share
of the cost variance it explains alone. Here growth, the agent share, the agent cache
hit rate and the input price are all uncertain.
"""

import dataclasses

import costsim as cs
from costsim.demo import demo_traffic
from costsim.plot import plot_tornado

traffic = demo_traffic(days=7, volume=20_000)
chat, rag, agent, long_context = traffic.classes
agent = dataclasses.replace(agent, share=cs.Uniform(0.05, 0.15),
                            cached_fraction=cs.Constant(cs.Uniform(0.3, 0.9)))
traffic = dataclasses.replace(traffic, classes=(chat, rag, agent, long_context))
options = {"frontier": cs.TokenPricing(input=cs.Uniform(2.5, 3.5), output=15.0, cached_input=0.30)}
ds = cs.simulate(traffic, options, trials=200, seed=7)
labels = {"traffic.classes[2].cached_fraction.value": "agent cache hit rate",
          "traffic.classes[2].share": "agent share", "options['frontier'].input": "frontier input price",
          "traffic.arrivals.growth": "monthly growth"}
ax = plot_tornado(cs.analysis.sensitivity(ds), option="frontier", labels=labels)

"""Data shared by the gallery scripts: simulated once per documentation build."""
import functools

import costsim as cs
from costsim.demo import demo_options, demo_traffic


@functools.cache
def demo_result():
    """The demo product (four classes, three API vendors): two weeks, 20k queries a day, 100 trials."""
    return cs.simulate(demo_traffic(days=14, volume=20_000), demo_options(), trials=100, seed=7)

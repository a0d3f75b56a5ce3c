"""
Unit cost and total cost against volume, with the break-even point
==================================================================

``plot_volume_sweep(cs.sweep(...))``: the same scenario simulated at several daily
volumes with common random numbers. Self-hosted GPUs carry a fixed monthly cost and
at least one replica, so they are expensive per query at low volume and cheap once
that cost is spread over enough traffic; the break-even volume is marked with its
band across trials.
"""

import costsim as cs
from costsim.demo import demo_traffic
from costsim.plot import plot_volume_sweep

options = {
    "frontier API": cs.TokenPricing(input=3.0, output=15.0, cached_input=0.30),
    "self-hosted": cs.SelfHostedGPU(gpu_hour_price=2.5, prefill_tokens_per_s=8_000, decode_tokens_per_s=1_500,
                                    min_replicas=1, fixed_monthly=3_000.0),
}
volumes = [1_000, 3_000, 10_000, 30_000, 100_000, 300_000]  # queries a day
sw = cs.sweep(demo_traffic(days=7, volume=1.0), options, volumes, trials=10, seed=7)
axes = plot_volume_sweep(sw)

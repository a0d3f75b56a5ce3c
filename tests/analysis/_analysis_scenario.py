"""Small scenarios shared by the analysis tests."""

import costsim as cs


def small_traffic(volume: float = 4_000.0, **arrivals):
    """Two classes, two days of hourly bins: a few thousand queries a trial."""
    chat = cs.QueryClass("chat", 0.8, cs.LogNormal.from_median_p90(800, 3_000), cs.LogNormal.from_median_p90(250, 900))
    long = cs.QueryClass("long", 0.2, cs.LogNormal.from_median_p90(20_000, 80_000), cs.LogNormal(6.0, 0.8))
    kw = {"volume": volume, "horizon": "2D", "bin": "1h", "growth": cs.Uniform(0.0, 0.4), "overdispersion": 0.2}
    kw.update(arrivals)
    return cs.Traffic((chat, long), cs.Arrivals(**kw))


def small_options():
    return {
        "big": cs.TokenPricing(input=cs.Uniform(2.0, 4.0), output=15.0, cached_input=0.3),
        "small": cs.TokenPricing(input=0.4, output=1.6),
        "gpu": cs.SelfHostedGPU(gpu_hour_price=2.5, prefill_tokens_per_s=8_000, decode_tokens_per_s=1_500),
    }

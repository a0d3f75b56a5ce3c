"""How the ``*_v0_1`` fixtures were written: by costsim as of commit fcc1ab5, before the one codec.

``tests/test_codec.py`` checks that files written by that version still load, and that a
result reruns bit for bit.  To write them again (never needed; kept as their provenance)::

    git worktree add /tmp/costsim-old fcc1ab5
    PYTHONPATH=/tmp/costsim-old/src python tests/data/make_v0_1.py tests/data
    git worktree remove /tmp/costsim-old

* ``result_v0_1.nc``: a result (2 trials, 1 day, 2 query classes with uncertain parameters,
  a TokenPricing and a ProvisionedCapacity option); its ``scenario`` attr holds the old
  ``to_dict`` output, None values included.
* ``scenario_v0_1.json``: the same scenario as the old ``to_dict`` wrote it (None values
  included, tuples as lists).
* ``scenario_v0_1.toml``: the same scenario as the old ``save_scenario`` wrote it.
"""

import json
import sys
from pathlib import Path


def scenario():
    """The fixtures' scenario, built with the old costsim."""
    import costsim as cs
    from costsim.scenario import Scenario

    traffic = cs.Traffic(
        (
            cs.QueryClass("chat", cs.Uniform(0.6, 0.8), input_tokens=cs.LogNormal(cs.Uniform(5.5, 6.5), 0.8),
                          output_tokens=cs.Capped(cs.LogNormal(5.0, 0.6), 4_000), cached_fraction=cs.Beta(2.0, 5.0)),
            cs.QueryClass("agent", 0.3, input_tokens=cs.Pareto(1_500.0, 2.5), output_tokens=cs.Gamma(2.0, 200.0),
                          steps=cs.Geometric(0.4)),
        ),
        cs.Arrivals(volume=cs.Uniform(2_000.0, 3_000.0), horizon="1D", bin="3h", start="2026-02-02T00:00",
                    growth=0.1),
    )
    options = {
        "api": cs.TokenPricing(input=3.0, output=15.0, cached_input=0.3,
                               long_context=(cs.LongContextTier(8_000, 6.0, 22.5),)),
        "ptu": cs.ProvisionedCapacity(units=1, price_per_unit_hour=cs.Uniform(1.0, 2.0), tokens_per_minute=20_000.0,
                                      fallback="api"),
    }
    return Scenario(traffic, options, trials=2, seed=20260202)


def main(folder: Path) -> None:
    from costsim.scenario import save_scenario, to_dict

    s = scenario()
    ds = s.run(trials=[5, 2], hist_range=(1e-6, 10.0), hist_bins_per_octave=4)
    ds.to_netcdf(folder / "result_v0_1.nc", encoding={name: {"zlib": True} for name in ds.data_vars})
    data = {"traffic": to_dict(s.traffic), "options": to_dict(s.options), "trials": s.trials, "seed": s.seed}
    (folder / "scenario_v0_1.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    save_scenario(s, folder / "scenario_v0_1.toml")


if __name__ == "__main__":
    main(Path(sys.argv[1]))

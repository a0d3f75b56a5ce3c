"""The randomness contract, checked across processes: the same seed gives a
bit-identical Dataset whatever the thread count, the chunking of trials, and
whether the kernel was compiled or loaded from numba's on-disk cache."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import xarray as xr

from costsim.results import scenario_text

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numba
    import xarray as xr
    import costsim as cs
    from costsim import kernels

    out, chunks = sys.argv[1], json.loads(sys.argv[2])
    traffic = cs.demo.demo_traffic(days=2, volume=20_000)
    options = dict(cs.demo.demo_options())
    options["uncertain"] = cs.TokenPricing(input=cs.Uniform(1.0, 4.0), output=12.0)
    parts = [cs.simulate(traffic, options, trials=chunk, seed=2026) for chunk in chunks]
    ds = xr.concat(parts, dim="trial", data_vars="minimal", coords="minimal", compat="override")
    ds.to_netcdf(out)
    print(json.dumps({"threads": numba.get_num_threads(),
                      "cache_hits": sum(kernels.simulate_items.stats.cache_hits.values())}))
    """
)


def _run(tmp_path, name, threads, chunks, cache_dir):
    out = tmp_path / f"{name}.nc"
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads), "NUMBA_CACHE_DIR": str(cache_dir)}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(out), json.dumps(chunks)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    assert info["threads"] == threads
    with xr.open_dataset(out) as ds:
        return ds.load(), info


def _assert_bit_identical(a: xr.Dataset, b: xr.Dataset) -> None:
    xr.testing.assert_identical(a, b)
    for name in a.data_vars:
        assert a[name].dtype == b[name].dtype
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


@pytest.mark.slow
def test_same_seed_is_bit_identical_across_threads_chunks_and_cache(tmp_path):
    cache = tmp_path / "numba-cache"
    first, info = _run(tmp_path, "compiled-1thread", 1, [6], cache)
    assert info["cache_hits"] == 0  # compiled in this process, and written to the cache
    two, info2 = _run(tmp_path, "cached-2threads", 2, [6], cache)
    assert info2["cache_hits"] > 0  # loaded from the cache written by the first run
    chunked, _ = _run(tmp_path, "chunked-2threads", 2, [[0, 1], [2, 3, 4, 5]], cache)
    other_chunks, _ = _run(tmp_path, "chunked-1thread", 1, [[0, 1, 2], [3], [4, 5]], cache)

    assert int(first["requests"].sum()) > 10_000
    assert first["uncertain"].sizes["parameter"] == 2  # growth and the uncertain price
    _assert_bit_identical(first, two)
    for other in (chunked, other_chunks):
        # the scenario attr of a concatenation names the first chunk's trials; all else is equal
        other["trial"].attrs["scenario"] = scenario_text(first)
        _assert_bit_identical(first, other)

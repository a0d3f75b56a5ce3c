"""simulate on a Dask cluster (costsim.run.dask): bit-identical to the in-process run
for the same seed, whatever the partitioning of the trials."""

import json
import pickle
import time

import numpy as np
import pytest
import xarray as xr

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (pip install 'costsim[dask]')"
)

import costsim as cs  # noqa: E402
from costsim.results import scenario_text  # noqa: E402
from costsim.run.dask import simulate_dask  # noqa: E402

TRIALS = 7
SEED = 4242


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        env={"NUMBA_NUM_THREADS": "1"},
    ) as cluster, distributed.Client(cluster, set_as_default=False) as c:
        yield c


@pytest.fixture(scope="module")
def scenario():
    """Small traffic (~4,000 requests a trial), uncertain growth and price, two options."""
    traffic = cs.demo.demo_traffic(days=2, volume=2_000)
    options = {
        "api": cs.TokenPricing(input=3.0, output=15.0, cached_input=0.3),
        "uncertain": cs.TokenPricing(input=cs.Uniform(1.0, 4.0), output=12.0),
    }
    return traffic, options


def _assert_bit_identical(a: xr.Dataset, b: xr.Dataset) -> None:
    xr.testing.assert_identical(a, b)
    assert a.attrs == b.attrs
    for name in [*a.data_vars, *a.coords]:
        assert a[name].dtype == b[name].dtype, name
        assert a[name].attrs == b[name].attrs, name
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


def test_inputs_pickle(scenario):
    traffic, options = scenario
    assert pickle.loads(pickle.dumps(traffic)) == traffic
    assert pickle.loads(pickle.dumps(options)) == options


@pytest.mark.parametrize("trials_per_task", [1, 3, None])
def test_bit_identical_to_in_process(client, scenario, trials_per_task):
    traffic, options = scenario
    local = cs.simulate(traffic, options, trials=TRIALS, seed=SEED)
    assert local["uncertain"].sizes["parameter"] == 2  # growth and the uncertain price
    assert int(local["requests"].sum()) > 5_000
    ds = simulate_dask(client, traffic, options, trials=TRIALS, seed=SEED, trials_per_task=trials_per_task)
    _assert_bit_identical(ds, local)
    assert json.loads(scenario_text(ds))["trials"] == list(range(TRIALS))


def test_explicit_trial_order_and_simulate_keyword(client, scenario):
    traffic, options = scenario
    ids = [9, 2, 5, 0, 11]
    local = cs.simulate(traffic, options, trials=ids, seed=SEED, hist_bins_per_octave=4)
    ds = cs.simulate(traffic, options, trials=ids, seed=SEED, hist_bins_per_octave=4,
                     client=client, trials_per_task=2)
    _assert_bit_identical(ds, local)
    assert ds["trial"].values.tolist() == ids


def test_progress_counts_tasks(client, scenario, capsys):
    traffic, options = scenario
    ds = cs.simulate(traffic, options, trials=5, seed=SEED, client=client, trials_per_task=2, progress=True)
    assert "3/3" in capsys.readouterr().err  # three tasks, all done
    _assert_bit_identical(ds, cs.simulate(traffic, options, trials=5, seed=SEED))
    cs.simulate(traffic, options, trials=5, seed=SEED, client=client, trials_per_task=2)
    assert capsys.readouterr().err == ""  # automatic: off when stderr is not a terminal


def test_lazy_dataset_stays_on_the_workers_until_computed(client, scenario):
    traffic, options = scenario
    ds = cs.simulate(traffic, options, trials=TRIALS, seed=SEED, client=client, trials_per_task=3, lazy=True)
    assert ds["cost"].chunks[0] == (3, 3, 1)  # one block per task
    local = cs.simulate(traffic, options, trials=TRIALS, seed=SEED)
    total = ds["cost"].sum(("trial", "time")).compute(scheduler=client)  # reduced on the cluster
    # summed block by block: another order of float additions, ~1e-16 relative
    np.testing.assert_allclose(total.values, local["cost"].sum(("trial", "time")).values, rtol=1e-12)
    _assert_bit_identical(ds.compute(scheduler=client), local)
    with pytest.raises(TypeError, match="lazy=True needs a connected distributed.Client"):
        cs.simulate(traffic, options, trials=2, client=client.scheduler.address, lazy=True)
    with pytest.raises(ValueError, match="lazy=True applies to runs on a Dask cluster"):
        cs.simulate(traffic, options, trials=2, lazy=True)


def test_seed_none_draws_one_seed(client, scenario):
    traffic, options = scenario
    ds = simulate_dask(client, traffic, options, trials=4, seed=None, trials_per_task=1)
    seed = ds.attrs["seed"]
    assert json.loads(scenario_text(ds))["seed"] == seed
    _assert_bit_identical(ds, cs.simulate(traffic, options, trials=4, seed=seed))


def test_address_string_connects(client, scenario):
    traffic, options = scenario
    ds = simulate_dask(client.scheduler.address, traffic, options, trials=2, seed=SEED, connect_timeout=10)
    _assert_bit_identical(ds, cs.simulate(traffic, options, trials=2, seed=SEED))


def test_unreachable_scheduler_fails_fast(scenario):
    import dask.config

    traffic, options = scenario
    address = "tcp://127.0.0.1:1"  # nothing listens on port 1
    message = r"no Dask scheduler answered at 'tcp://127\.0\.0\.1:1' within 1 s"
    t0 = time.perf_counter()
    with pytest.raises(ConnectionError, match=message):
        simulate_dask(address, traffic, options, trials=2, seed=1, connect_timeout=1)
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}), pytest.raises(ConnectionError, match=message):
        cs.simulate(traffic, options, trials=2, seed=1, client=address)
    assert time.perf_counter() - t0 < 15


def test_bad_arguments(client, scenario):
    traffic, options = scenario
    with pytest.raises(TypeError, match="client must be a distributed.Client"):
        simulate_dask(42, traffic, options, trials=2, seed=1)
    with pytest.raises(ValueError, match="trials_per_task must be >= 1; got 0"):
        simulate_dask(client, traffic, options, trials=2, seed=1, trials_per_task=0)
    with pytest.raises(ValueError, match="trials must not repeat"):
        simulate_dask(client, traffic, options, trials=[1, 1], seed=1)

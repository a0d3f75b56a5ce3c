"""costsim.datasets: the packaged Azure traces are the published files, row for row."""

import gzip
import hashlib

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATA

import costsim as cs
from costsim import datasets

RAW = SHARED_DATA / "azure_llm_2023"
ROWS = {"code": 8_819, "conv": 19_366}
# SHA-256 of the published CSVs (also in costsim/datasets/data/LICENSE.md)
SHA256 = {
    "code": "54e9a6d2a4bd06ba1e060304b900abbc74cbea53de96506e60fe5bb4f2277fb6",
    "conv": "2f1e5b666d4e3055fdbba98598ce2ec307767b9064e03e2fa46676dbcc7d0bf8",
}


@pytest.mark.parametrize("name", datasets.AZURE_TRACES)
def test_shape_columns_dtypes(name):
    df = datasets.load_azure_trace(name)
    assert df.shape == (ROWS[name], 3)
    assert df.dtypes.astype(str).to_dict() == {
        "TIMESTAMP": "datetime64[ns]", "ContextTokens": "int64", "GeneratedTokens": "int64"}
    assert df["TIMESTAMP"].is_monotonic_increasing
    assert df["TIMESTAMP"].dt.date.astype(str).unique().tolist() == ["2023-11-16"]
    assert (df[["ContextTokens", "GeneratedTokens"]] >= 0).all().all()


@pytest.mark.parametrize("name", datasets.AZURE_TRACES)
def test_packaged_file_is_the_published_file(name):
    """Decompressed, the packaged file has the checksum of the published CSV (no edits)."""
    data = gzip.decompress(datasets.azure_trace_path(name).read_bytes())
    assert hashlib.sha256(data).hexdigest() == SHA256[name]


@pytest.mark.skipif(not RAW.is_dir(), reason=f"raw Azure traces not found at {RAW} (shared data absent)")
@pytest.mark.parametrize("name", datasets.AZURE_TRACES)
def test_rows_equal_the_raw_csv(name):
    raw = pd.read_csv(RAW / f"AzureLLMInferenceTrace_{name}.csv", parse_dates=["TIMESTAMP"])
    pd.testing.assert_frame_equal(datasets.load_azure_trace(name), raw, check_exact=True)


def test_unknown_name_is_refused_with_the_choices():
    with pytest.raises(cs.ParameterError, match=r"name must be one of 'code', 'conv'; got 'Code'"):
        datasets.load_azure_trace("Code")


def test_license_and_citation_travel_with_the_data():
    text = (datasets.azure_trace_path("code").parent / "LICENSE.md").read_text()
    assert "CC-BY-4.0" in text and "Azure Public Dataset" in text
    for digest in SHA256.values():
        assert digest in text
    assert "CC-BY-4.0" in datasets.CITATION


def test_read_log_takes_a_trace_as_it_is():
    log = cs.calibrate.read_log(datasets.load_azure_trace("conv"))
    assert len(log) == ROWS["conv"]
    np.testing.assert_array_equal(log.input_tokens, datasets.load_azure_trace("conv")["ContextTokens"])

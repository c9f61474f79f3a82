"""The batch on a dask.distributed LocalCluster of two workers gives the plain run's outputs."""

from __future__ import annotations

import zipfile
from pathlib import Path

from helpers.batch import write_sr

from bmdkit.batch.ledger import FAILURES_CSV, RESULTS_CSV, RESULTS_JSONL
from bmdkit.batch.runner import run_batch
from bmdkit.samples.truth import TruthGenerator

import distributed  # noqa: E402  - the [dask] extra, part of the test install


def test_dask_run_matches_plain_run(tmp_path: Path) -> None:
    site = tmp_path / "in"
    site.mkdir()
    gen = TruthGenerator(17)
    for i in range(8):
        write_sr(site / f"e{i}.dcm", gen.exam())
    (site / "copy.dcm").write_bytes((site / "e0.dcm").read_bytes())
    (site / "empty.dcm").write_bytes(b"")
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as zf:
        zf.write(site / "e1.dcm", "x/e1.dcm")
    inputs = [site, tmp_path / "a.zip"]
    run_batch(inputs, tmp_path / "plain", workers=2, progress=False)

    from bmdkit.batch.dask_runner import run_batch_dask

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        s = run_batch_dask(inputs, tmp_path / "dask", client=client, progress=False)
    assert s.processed == 9  # 11 names; copy.dcm and x/e1.dcm repeat e0 and e1
    for name in (RESULTS_JSONL, RESULTS_CSV, FAILURES_CSV):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "plain" / name).read_bytes(), name


def test_dask_cluster_with_slow_ocr_files_matches_local_batch(tmp_path: Path) -> None:
    """Two worker processes, files that need OCR (seconds each): every file comes back, as a local batch gives.

    ``distributed.wait`` raises TimeoutError when nothing finishes within its
    timeout; the runner once let that escape, crashing any batch holding an
    OCR file and losing the files not yet written.
    """
    samples = Path(__file__).resolve().parent.parent / "samples"
    inputs = [samples / "reports" / "s7-0002_hologic_en_png.png",  # OCR
              samples / "reports" / "s7-0012_report_page_sc.dcm",  # OCR of a DICOM report page
              samples / "dicom" / "s7-0005_sr_nested.dcm", samples / "dicom" / "s7-0003_hologic_xml.dcm",
              samples / "dicom" / "s7-0009_sr_zh.dcm"]
    run_batch(inputs, tmp_path / "plain", workers=2, progress=False)

    from bmdkit.batch.dask_runner import run_batch_dask

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster, distributed.Client(cluster) as client:
        s = run_batch_dask(inputs, tmp_path / "dask", client=client, progress=False)
    assert s.processed == len(inputs)
    for name in (RESULTS_JSONL, RESULTS_CSV, FAILURES_CSV):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "plain" / name).read_bytes(), name

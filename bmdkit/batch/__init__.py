"""Batch processing: walk inputs, process files in parallel, keep resumable state.

Modules: :mod:`walk` (folders and zip archives), :mod:`ledger` (SQLite state
and atomic outputs), :mod:`runner` (process pool), :mod:`dask_runner`
(a Dask cluster), :mod:`grouping` (files of one study), :mod:`subjects`
(mapping and visits), :mod:`results` (the analysts' DataFrame).
"""

"""Batch evaluation of whole datasets: readers, validation, writers, summary, Dask."""

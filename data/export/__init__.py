"""Exports of the warehouse for tools past one machine: Parquet files, BigQuery, a LookML project."""

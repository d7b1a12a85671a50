"""Out-of-core analysis: the analysis dataset (:mod:`.dataset`), the reductions each engine
computes over it (:mod:`.base`; DuckDB in :mod:`.duckdb_engine`, Dask in :mod:`.dask_engine`)
and the ``analyze`` tables made from them (:mod:`.tables`)."""

"""Events as bytes and tables: JSON lines and Arrow, vectorized (no per-record Python).

- :mod:`.textbytes`: numbers, ids and timestamps as ASCII bytes, whole arrays at a time;
- :mod:`.jsonl`: the fixed-layout JSON-lines encoder, and the mean record size;
- :mod:`.jsonl_variants`: field-by-field rendering of drifted and malformed lines;
- :mod:`.tables`: events as Arrow tables (Parquet), drift side tables included.

Nothing is imported here, so importing one module does not pull Arrow.
"""

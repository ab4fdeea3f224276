"""Data completeness: the ledger against what the pipeline loaded (landing, stream, checks)."""

"""The run directory and its journal: the contract between the engine and its readers.

The one clock, the journal writer and follower, and creating a run directory
(format: docs/journal.md). Everything that writes or reads a run directory goes
through this package.
"""

"""The scheduler at work: throughput, tries never started, the run-time split, StatsD."""

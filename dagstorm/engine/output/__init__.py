"""The pipeline's output, read at the end of a run: the output checks and their sources."""

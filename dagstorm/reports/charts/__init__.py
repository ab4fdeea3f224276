"""The report's charts, as inline SVG.

:mod:`.svg` draws a chart, :mod:`.series` reads the time series they draw from
the run directory, :mod:`.run_charts` has one function per chart of a run.
"""

"""What the analysis writes and compares.

``result.json`` (:mod:`.result`), ``junit.xml`` (:mod:`.junit`,
:mod:`.suite_report`), the printed summary and story, the history file, the
headline measures and the comparison with a baseline (docs/trends.md). The top
layer of the analysis: it may import every other part of it.
"""

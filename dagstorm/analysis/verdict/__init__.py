"""The verdict: every SLO judged against the measures, and the findings.

:mod:`.judgement` judges the SLOs, :mod:`.findings` says what fails a run whatever
its SLOs say, :mod:`.live` checks the ``abort: true`` SLOs while a run is under way.
"""

"""Real feature times in behave's reports (a workaround for behave 1.3).

behave 1.3 adds a feature's duration up from the scenarios directly under it and leaves out
those under a `Rule:`, so a feature whose scenarios all sit in rules reports 0 seconds: the
`time` of its JUnit `<testsuite>`, which CI shows, and the summary's "Took". behave already
records when each feature and rule started and ended running (its own TODO is to use that);
`use_run_times` makes their duration that. A scenario's time, the sum of its steps', is
unchanged.
"""

from __future__ import annotations

from behave.model import ScenarioContainer


def _run_time(container: ScenarioContainer) -> float:
    """From the start of the feature's (or rule's) run to its end, hooks included."""
    return max(container.run_endtime - container.run_starttime, 0.0)


def use_run_times() -> None:
    ScenarioContainer.duration = property(_run_time, doc=_run_time.__doc__)

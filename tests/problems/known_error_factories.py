"""Known errors for the search and auto-match tests: created through ``itsm.services`` (number,
state, journal) as an agent, with the known-error fields the workflows would have set."""

from __future__ import annotations

from itsm.services import record_create
from problems.models import Problem


def make_known_error(
    *, by, short_description: str, symptoms="", root_cause="", workaround="", category="", hosts=(),
    host_groups=(), known=True,
) -> Problem:  # fmt: skip
    problem = record_create(
        model=Problem, actor=by, data={"short_description": short_description},
        symptoms=symptoms, root_cause=root_cause, workaround=workaround, category=category, is_known_error=known,
    )  # fmt: skip
    problem.hosts.set(hosts)
    problem.host_groups.set(host_groups)
    return problem

"""Who is told what about a problem (through ``notifications.services.send``)."""

from __future__ import annotations


def rca_submitted(problem) -> None:
    """Holders of problems.approve_rca are asked to review a submitted RCA."""


def rca_reviewed(problem, *, approved: bool) -> None:
    """The RCA's submitter learns it was approved or rejected."""


def assigned(problem, *, actor) -> None:
    """The assignee and the group's leads learn the problem is theirs."""

"""Bulk actions on a desk queue's ticked records, the same for every kind of Work (issue 17 item 10).

A kind declares its ``BulkActions`` next to its services (``incidents.services.BULK``…): each
action's name and label, the record's own workflow or service that performs it, and what it
needs (a comment; a person and/or a group). ``BulkActions.run`` checks the request as a whole
(which action, how many ids, the inputs the action needs: 400 naming the field), reads the
records through the policy and runs the action on each in its own transaction. A record the
actor may not act on, or whose state refuses it, is left unchanged and listed with the
service's reason; one it may not read is only "not found". The queue page's bulk form
(``itsm.views.queue``) and each kind's ``bulk/`` API endpoint are doors onto it.

(``itsm.bulk`` is something else: the COPY writer for big inserts.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction

from itsm import policy
from itsm.errors import InvalidInput, ItsmError, NotAllowed

BULK_MAX = 100
COMMENT_MAX = 4000
# What an action may need besides the ids: a comment, or someone to give the work to.
COMMENT = "comment"
SOMEONE = "someone"  # a person (``assignee``), a group (``assignment_group``), or both
ASSIGNEES = ("assignee", "assignment_group")  # what an assign service takes


@dataclass(frozen=True)
class BulkAction:
    name: str
    label: str  # the bulk form's choice: "Assign"
    # The record's workflow or service: run(<record>=obj, actor=user, **{name: input for name in passes}).
    run: Callable[..., Any]
    needs: frozenset[str] = frozenset()  # COMMENT, SOMEONE: refused as a whole (400) without them
    passes: tuple[str, ...] = ()  # the request's inputs handed to ``run`` by keyword
    note: bool = True  # a comment given is added to each record as a work note, after ``run``
    permission: str = ""  # the policy action (default: ``name``)

    @property
    def policy_action(self) -> str:
        return self.permission or self.name


class BulkActions:
    """The bulk actions of one kind of Work. ``record`` is the keyword its functions take the
    record by (``incident=``); ``note`` adds a work note: note(<record>=obj, actor=user, body=text)."""

    def __init__(
        self, *, model: type[models.Model], record: str, noun: str, note: Callable[..., Any],
        actions: Iterable[BulkAction], noun_plural: str = "",
    ):  # fmt: skip
        self.model, self.record, self.note = model, record, note
        self.noun, self.noun_plural = noun, noun_plural or f"{noun}s"
        self.actions = {action.name: action for action in actions}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.actions)

    def offered(self, user) -> list[BulkAction]:
        """The actions the policy lets ``user`` take on some record of the kind."""
        return [a for a in self.actions.values() if policy.can(user, a.policy_action, self.model)]

    def run(self, *, actor, action: str, ids: Iterable, comment: str = "", **inputs) -> dict:
        """Take ``action`` on each record of ``ids`` (at most ``BULK_MAX``), each in its own
        transaction; answers {requested, affected, unchanged, refused: [{id, number, reason}]}.
        Someone who may take the action on no record of the kind at all is refused (403)."""
        chosen = self.actions.get(action)
        if chosen is not None:
            allowed = policy.can(actor, chosen.policy_action, self.model)
        else:
            allowed = bool(self.offered(actor))
        if not allowed:
            raise NotAllowed("Bulk actions are for the service desk.")
        errors = {}
        if chosen is None:
            errors["action"] = [f"Choose one of: {', '.join(self.names)}."]
        ids = list(dict.fromkeys(ids or []))
        if not ids:
            errors["ids"] = [f"Give at least one {self.noun} id."]
        elif len(ids) > BULK_MAX:
            errors["ids"] = [f"At most {BULK_MAX} {self.noun_plural} per request (got {len(ids)})."]
        elif not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**63 for i in ids):
            errors["ids"] = ["Ids are positive whole numbers."]
        comment = comment or ""
        if len(comment) > COMMENT_MAX:
            errors["comment"] = [f"At most {COMMENT_MAX} characters."]
        if chosen is not None:
            if COMMENT in chosen.needs and not comment.strip():
                errors["comment"] = [f"Say why: the comment is added to every {self.noun}."]
            if (
                SOMEONE in chosen.needs
                and inputs.get("assignee") is None
                and inputs.get("assignment_group") is None
            ):
                errors["assignee"] = ["Choose a person, a group, or both."]
        if errors:
            raise InvalidInput("The bulk action cannot run as asked.", fields=errors)
        records = {r.pk: r for r in policy.readable(actor, self.model).filter(pk__in=ids)}
        passed = {name: inputs[name] for name in chosen.passes if name != COMMENT and name in inputs}
        if COMMENT in chosen.passes:
            passed[COMMENT] = comment
        affected, refused = 0, []
        for pk in ids:
            record = records.get(pk)
            if record is None:
                refused.append({"id": pk, "number": None, "reason": "Not found."})
                continue
            try:
                with transaction.atomic():
                    chosen.run(**{self.record: record}, actor=actor, **passed)
                    if chosen.note and comment.strip():
                        self.note(**{self.record: record}, actor=actor, body=comment)
            except ItsmError as exc:
                reasons = [exc.message, *(p for problems in exc.fields.values() for p in problems)]
                refused.append({"id": pk, "number": record.number, "reason": " ".join(reasons)})
                continue
            affected += 1
        return {
            "requested": len(ids),
            "affected": affected,
            "unchanged": len(ids) - affected,
            "refused": refused,
        }

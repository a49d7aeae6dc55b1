"""The "Assign to me" button on a record's desk page and "Take" on each row of a desk queue,
the same for every kind of Work: one POST that runs the kind's own assign action (its action table's
``assign``: ``incident_assign``, ``request_assign``…) with the user as assignee and the record's
group kept, so every rule of that service holds. Offered only where the service would accept it:
the action table's answer (policy and state) and the assignment rule
(``itsm.services.assignment_errors``: a holder of the kind's assignee permission, a member of
the record's group)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.contrib import messages
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from itsm import people, services
from itsm.actions import ActionTable
from itsm.errors import ItsmError, NotFound
from itsm.models import GroupMembership
from itsm.views.base import DeskMixin, record_or_404

ACTION = "assign"


IN_GROUP = "user_in_assignment_group"


def with_membership(queryset, user):
    """``queryset`` with whether ``user`` is a member of each record's group, read in the same
    query (a record page: no query of its own for "Assign to me")."""
    members = GroupMembership.objects.filter(group=OuterRef("assignment_group"), user=user)
    return queryset.annotate(**{IN_GROUP: Exists(members)})


class SelfAssign:
    """Whether ``user`` may assign records of ``model`` to itself. Group membership comes from
    the record (``with_membership``) or from one query for the user's groups, read once however
    many records are asked about (a queue page)."""

    def __init__(
        self, user, model, actions: ActionTable | None, *, groups: Callable[[], Iterable[int]] | None = None
    ):
        self.user = user
        self.actions = actions
        self.source = people.assignee_source(model)
        self._read_groups = groups  # the caller's own read of the user's group ids, asked only when needed
        self._groups: frozenset[int] | None = None

    def groups(self) -> frozenset[int]:
        if self._groups is None:
            if self._read_groups is not None:
                self._groups = frozenset(self._read_groups())
            else:
                memberships = GroupMembership.objects.filter(user=self.user).order_by()
                self._groups = frozenset(memberships.values_list("group_id", flat=True))
        return self._groups

    def offered(self, record) -> bool:
        if self.actions is None or self.source is None or record.assignee_id == self.user.pk:
            return False
        if not self.actions.allows(self.user, record, ACTION):
            return False
        group = record.assignment_group if record.assignment_group_id else None
        member_of = None
        if group is not None:
            known = getattr(record, IN_GROUP, None)
            member_of = self.groups() if known is None else frozenset({group.pk} if known else ())
        errors = services.assignment_errors(
            after={"assignee": self.user, "assignment_group": group},
            named=lambda name: name == "assignee",
            permission=self.source.permission,
            refusal="",
            member_of=member_of,
        )
        return not errors

    def mark(self, records) -> None:
        """Set ``take_offered`` on each record (rows of a queue page)."""
        for record in records:
            record.take_offered = self.offered(record)


class AssignToMeView(DeskMixin, View):
    """POST: assign the record to the user through its kind's assign action, keeping its group,
    then back where the user was (``next``: the queue page with its filters, else the record's
    page) with what happened. A record the user may not read is a 404; a refusal is the
    service's message."""

    http_method_names = ["post"]
    model = None
    actions: ActionTable | None = None
    detail = ""  # the record page's URL name

    def post(self, request, pk):
        record = record_or_404(request.user, self.model, pk, queryset=self.model.objects.select_related(
            "assignment_group"
        ))  # fmt: skip
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
            back = reverse(self.detail, args=[record.pk])
        try:
            self.actions.run(
                ACTION, record, request.user, assignee=request.user, assignment_group=record.assignment_group
            )
        except NotFound:
            raise Http404(f"No such {self.model._meta.verbose_name}.") from None
        except ItsmError as exc:
            said = [str(text) for texts in exc.fields.values() for text in texts]
            messages.error(
                request, " ".join([f"{record.number} was not assigned to you: {exc.message}", *said])
            )
            return HttpResponseRedirect(back)
        messages.success(request, f"{record.number} is now assigned to you.")
        return HttpResponseRedirect(back)


def take_context(request, model, actions: ActionTable, rows, url_name: str, *, groups=None) -> dict:
    """What a desk queue needs for its "Take" buttons: each row marked ``take_offered``, the URL
    name of the kind's AssignToMeView and the page to come back to (with its filters). ``groups``:
    how the page reads the ids of the user's groups (``QueuePage.read_member_group_ids``), called only
    when a row's group matters, so the page reads them once for "Take" and "Save as a view"."""
    SelfAssign(request.user, model, actions, groups=groups).mark(rows)
    return {
        "take_url": url_name,
        "take_next": request.get_full_path(),
        "take_any": any(row.take_offered for row in rows),
    }

"""Self-service portal pages for incidents: the portal's home, my incidents, raise one, its page
(visible fields and the conversation), edit while allowed, comment, rate (CSAT) and cancel.

Thin views: the policy says what the customer may read and do, a form shapes the input, a
service or workflow does the write, and a refusal (``ItsmError``) comes back on the page.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from incidents import attachments as incident_files
from incidents import selectors, services, workflows
from incidents.attachments import CommentFilesForm
from incidents.forms_portal import (
    CancelForm,
    CommentForm,
    CsatForm,
    IncidentEditForm,
    IncidentFilterForm,
    IncidentNewForm,
)
from incidents.models import CsatResponse, Incident, IncidentNote
from itsm import attachments, policy
from itsm.errors import ItsmError, NotAllowed, TransitionNotAllowed
from itsm.pagination import paginate
from itsm.templatetags.itsm_ui import state_label
from itsm.views import attachments as attachment_views
from itsm.views import panels
from itsm.views.attachments import AttachForm
from itsm.views.base import PortalMixin, record_or_404, submit
from itsm.views.pages import display_name
from itsm.views.queue import csv_export

PAGE_SIZE = 25
# What the portal's home lists of a customer's incidents; anything the policy hides is dropped.
HOME_COLUMNS = ("number", "short_description", "state", "opened_at")
# What the list shows, in order; anything the policy hides from the reader is dropped.
LIST_COLUMNS = ("number", "short_description", "state", "opened_at", "updated_at")
LIST_LABELS = (
    ("number", "Number"), ("short_description", "Short description"), ("state", "State"),
    ("opened_at", "Opened"), ("updated_at", "Last update"),
)  # fmt: skip
# What the incident page shows at most; again minus anything the policy hides.
DETAIL_FIELDS = (
    "number",
    "short_description",
    "description",
    "state",
    "opened_at",
    "resolution_code",
    "resolution_message",
    "requester",
    "requested_for",
)
# The fields the portal's edit page offers, when the policy lets the user write them.
EDIT_FIELDS = frozenset({"short_description", "description", "requested_for"})


def incident_or_404(user, pk) -> Incident:
    """The incident if the user may read it; otherwise, as if it did not exist."""
    return record_or_404(
        user, Incident, pk, queryset=Incident.objects.select_related("requester", "requested_for")
    )


def detail_url(incident: Incident, anchor: str = "") -> str:
    url = reverse("portal:incident-detail", args=[incident.pk])
    return f"{url}#{anchor}" if anchor else url


def speaker(note: IncidentNote, user, incident: Incident) -> str:
    """Who said it, as the customer sees it: "You", or as ``policy.person_name`` names the
    author (the people the incident is about by name, agents as the service desk)."""
    if note.author_id is not None and note.author_id == user.pk:
        return "You"
    return policy.person_name(user, note.author, incident)


def detail_page(request, incident: Incident, *, status: int = 200, **forms):
    """Render the incident page, with any bound form (and its errors) passed in."""
    user = request.user
    visible = set(DETAIL_FIELDS) - policy.hidden_fields(user, Incident)
    files = list(attachments.attachments_of(user, incident))
    note_files = attachment_views.by_note(user, incident, files, door="portal")
    conversation = [
        {
            "note": note,
            "speaker": speaker(note, user, incident),
            "mine": note.author_id == user.pk,
            "files": note_files.get(note.pk, []),
        }
        for note in selectors.notes_for(user, incident, IncidentNote.Kind.COMMENT)
    ]
    csat_refusal = services.csat_refusal(incident, user)
    rating = None
    if csat_refusal is None:
        rating = CsatResponse.objects.filter(incident=incident, actor=user).first()
    if "csat_form" not in forms:
        initial = {"rating": rating.rating, "comment": rating.comment} if rating else None
        forms["csat_form"] = CsatForm(initial=initial)
    forms.setdefault("comment_form", CommentFilesForm())
    if "attach_form" in forms:
        request.attach_form = forms["attach_form"]
    forms.setdefault("cancel_form", CancelForm())
    context = {
        "view": {"door": "portal"},
        "incident": incident,
        "visible": visible,
        "conversation": conversation,
        "can_comment": policy.can(user, "comment", incident),
        "can_cancel": policy.can(user, "cancel", incident),
        "can_edit": bool(policy.writable_fields(user, incident) & EDIT_FIELDS),
        "csat_refusal": csat_refusal,
        "rating": rating,
        "attachments": incident_files.portal_card(request, incident, files=files),
        **forms,
    }
    return render(request, "incidents/portal/detail.html", context, status=status)


class PortalHomeView(PortalMixin, TemplateView):
    """The customer's home: its own incidents, as requester or as the person served."""

    template_name = "incidents/portal/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        hidden = policy.hidden_fields(user, Incident)
        columns = [name for name in HOME_COLUMNS if name not in hidden]
        incidents = (
            policy.readable(user, Incident)
            .filter(Q(requester=user) | Q(requested_for=user))
            .only(*columns)
            .order_by("-opened_at", "-id")
        )
        page = paginate(self.request, incidents, PAGE_SIZE)
        context.update(
            page=page,
            columns=columns,
            greeting_name=display_name(user),
            can_create_incident=policy.can(user, "create", Incident),
            panels=panels.render(self.request, "portal:home"),
        )
        return context


class IncidentListView(PortalMixin, TemplateView):
    """My incidents: those I raised or that were raised for me, newest first; the count stops
    at 1,000 and later pages follow a cursor (``itsm.pagination.paginate``)."""

    template_name = "incidents/portal/list.html"

    def get(self, request, *args, **kwargs):
        if request.GET.get("format") == "csv":
            # The same rows and columns as the page (all pages): only fields the customer may read.
            _, columns, incidents = self.incidents()
            labels = dict(LIST_LABELS)
            return csv_export(request.user, Incident, incidents, [(c, labels[c]) for c in columns], name="my-incidents")
        context = self.get_context_data(**kwargs)
        status = 400 if context["filter_form"].errors else 200
        return self.render_to_response(context, status=status)

    def incidents(self):
        """The filter form, the columns the user may read and its incidents, filtered."""
        user = self.request.user
        columns = [name for name in LIST_COLUMNS if name not in policy.hidden_fields(user, Incident)]
        filter_form = IncidentFilterForm(self.request.GET or None)
        incidents = policy.readable(user, Incident).filter(Q(requester=user) | Q(requested_for=user))
        states = filter_form.states()
        if states is not None:
            incidents = incidents.filter(state__in=states)
        return filter_form, columns, incidents.only(*columns).order_by("-opened_at", "-id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filter_form, columns, incidents = self.incidents()
        page = paginate(self.request, incidents, PAGE_SIZE)
        context.update(
            page=page,
            columns=columns,
            filter_form=filter_form,
            state_filter=filter_form.chosen(),
            filtered=filter_form.chosen() != "all",
            can_create=policy.can(self.request.user, "create", Incident),
        )
        return context


class IncidentNewView(PortalMixin, View):
    """Raise an incident; the customer lands on its page."""

    template_name = "incidents/portal/new.html"

    def form(self, data=None) -> IncidentNewForm:
        user = self.request.user
        return IncidentNewForm(data, user=user, writable=policy.writable_fields(user, Incident))

    def page(self, form, status=200):
        context = {
            "view": self,
            "form": form,
            "can_create": policy.can(self.request.user, "create", Incident),
            "panels": panels.render(self.request, "portal:incident-new"),
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request):
        if not policy.can(request.user, "create", Incident):
            return self.page(None, status=403)
        return self.page(self.form())

    def post(self, request):
        if not policy.can(request.user, "create", Incident):
            return self.page(None, status=403)
        form = self.form(request.POST)
        raised = {}

        def create(data) -> str:
            incident = raised["incident"] = services.incident_create(
                actor=request.user, data=form.service_data()
            )
            return (
                f"We have received your incident {incident.number}. We will keep you up to date on "
                "this page, and you can add a comment here at any time."
            )

        return submit(
            request, form, create, door="portal", then=lambda: detail_url(raised["incident"]),
            page=lambda status: self.page(form, status=status),
        )  # fmt: skip


class IncidentDetailView(PortalMixin, View):
    def get(self, request, pk):
        return detail_page(request, incident_or_404(request.user, pk))


class IncidentEditView(PortalMixin, View):
    """Change what the customer may still change (the policy's writable fields)."""

    template_name = "incidents/portal/edit.html"

    def form(self, incident, data=None) -> IncidentEditForm:
        user = self.request.user
        writable = policy.writable_fields(user, incident) & EDIT_FIELDS
        return IncidentEditForm(data, incident=incident, user=user, writable=writable)

    def page(self, incident, form, status=200):
        context = {"view": self, "incident": incident, "form": form}
        return render(self.request, self.template_name, context, status=status)

    def refuse(self, incident):
        messages.info(
            self.request, f"{incident.number} can no longer be changed here. Add a comment instead."
        )
        return redirect(detail_url(incident))

    def get(self, request, pk):
        incident = incident_or_404(request.user, pk)
        form = self.form(incident)
        if len(form.fields) <= 1:  # only the version: nothing the user may change
            return self.refuse(incident)
        return self.page(incident, form)

    def post(self, request, pk):
        incident = incident_or_404(request.user, pk)
        form = self.form(incident, request.POST)
        if len(form.fields) <= 1:
            return self.refuse(incident)

        def save(data) -> str:
            changes = form.service_data()
            services.incident_update(
                incident=incident, actor=request.user, data=changes, expected_version=form.expected_version()
            )
            if changes:
                return f"Your changes to {incident.number} have been saved."
            return "You did not change anything."

        return submit(
            request, form, save, door="portal", then=detail_url(incident),
            page=lambda status: self.page(incident, form, status=status),
        )  # fmt: skip


class IncidentActionView(PortalMixin, View):
    """A POST from the incident page: form in, one service or workflow call, back to the page."""

    form_class: type = CommentForm
    form_name = ""
    anchor = ""

    def act(self, incident, form) -> str:
        """Do the write and say what happened."""
        raise NotImplementedError

    def refusal(self, incident, exc: ItsmError) -> str:
        return exc.message

    def post(self, request, pk):
        incident = incident_or_404(request.user, pk)
        form = self.form_class(request.POST, request.FILES)
        return submit(
            request, form, lambda data: self.act(incident, form), door="portal",
            then=detail_url(incident, self.anchor), refusal=lambda exc: self.refusal(incident, exc),
            page=lambda status: detail_page(request, incident, status=status, **{self.form_name: form}),
        )  # fmt: skip


class IncidentCommentView(IncidentActionView):
    form_class = CommentFilesForm
    form_name = "comment_form"
    anchor = "conversation"

    def act(self, incident, form) -> str:
        incident_files.note_add_with_files(
            incident=incident,
            actor=self.request.user,
            kind=IncidentNote.Kind.COMMENT,
            body=form.cleaned_data["body"],
            files=form.cleaned_data["attachments"],
        )
        if incident.state == "resolved":
            return "Your comment has been added. The service desk has been told and will look at it again."
        return "Your comment has been added."

    def refusal(self, incident, exc):
        if isinstance(exc, NotAllowed):
            return "Only the people this incident concerns can comment on it."
        return exc.message


class IncidentAttachView(IncidentActionView):
    """Attach files to the incident (everyone who reads the incident sees them)."""

    form_class = AttachForm
    form_name = "attach_form"
    anchor = "attachments"

    def act(self, incident, form) -> str:
        added = attachments.attachment_add(
            record=incident, actor=self.request.user, files=form.cleaned_data["attachments"]
        )
        return f"Attached {', '.join(item.name for item in added)}."

    def refusal(self, incident, exc):
        if isinstance(exc, NotAllowed):
            return "Only the people this incident concerns can attach files to it."
        return exc.message


class IncidentCsatView(IncidentActionView):
    form_class = CsatForm
    form_name = "csat_form"
    anchor = "rating"

    def act(self, incident, form) -> str:
        user = self.request.user
        rated_before = CsatResponse.objects.filter(incident=incident, actor=user).exists()
        services.csat_submit(
            incident=incident,
            actor=user,
            rating=form.cleaned_data["rating"],
            comment=form.cleaned_data["comment"],
        )
        if rated_before:
            return "Your rating has been updated. Thank you."
        return "Thank you for rating how we handled this incident."

    def refusal(self, incident, exc):
        if isinstance(exc, NotAllowed):
            return services.csat_refusal(incident, self.request.user) or exc.message
        return exc.message


class IncidentCancelView(IncidentActionView):
    form_class = CancelForm
    form_name = "cancel_form"

    def act(self, incident, form) -> str:
        incident = workflows.incident_cancel(
            incident=incident, actor=self.request.user, reason=form.cleaned_data["reason"]
        )
        return f"{incident.number} has been cancelled."

    def refusal(self, incident, exc):
        # The workflow's own message names the agents' transitions; say it in the customer's words.
        if isinstance(exc, NotAllowed | TransitionNotAllowed):
            incident.refresh_from_db(fields=["state"])
            if incident.state not in workflows.TRANSITIONS["cancel"].sources:
                return f"{incident.number} is {state_label(incident.state).lower()} and can no longer be cancelled."
            return "Only the people this incident concerns can cancel it."
        return exc.message

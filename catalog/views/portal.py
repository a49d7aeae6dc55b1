"""Self-service portal pages of the service catalog: Browse Catalog (categories, search, an
item's request form), My Requests, the Approval Queue, and a request's page (its form data, its
approvals as the reader may see them, the conversation, and the actions the reader may take).

Thin views: the policy says what the reader may read and do, the item's form definition shapes
the input (``catalog.formdef``), a service or workflow does the write (through the request
action table), and a refusal (``ItsmError``) comes back on the page.
"""

from __future__ import annotations

from itertools import groupby

from django.db.models import Count, Q
from django.shortcuts import render
from django.urls import reverse
from django.views import View

from catalog import formdef, selectors, services, workflows
from catalog.actions import ACTIONS
from catalog.forms_portal import (
    QUERY_MAX,
    ApproveForm,
    CancelForm,
    CommentForm,
    CompleteForm,
    RejectForm,
    RequestedForForm,
    RequestFilterForm,
)
from catalog.models import (
    CatalogCategory,
    CatalogItem,
    Decision,
    Request,
    RequestNote,
)
from itsm import attachments, policy
from itsm.errors import ItsmError, NotAllowed, TransitionNotAllowed
from itsm.pagination import paginate
from itsm.templatetags.itsm_ui import state_label
from itsm.views import attachments as attachment_views
from itsm.views.attachments import AttachForm
from itsm.views.base import PortalMixin, record_or_404, submit

PAGE_SIZE = 25
BROWSE_PAGE_SIZE = 60
# What My Requests lists, in order; anything the policy hides from the reader is dropped.
LIST_COLUMNS = ("number", "short_description", "state", "opened_at", "updated_at")
# What a list row never shows: the answers and the item's form, JSON decoded per row.
LIST_DEFERRED = ("form_data", "description", "catalog_item__form_fields", "catalog_item__description")
# What the request page shows at most; again minus anything the policy hides.
DETAIL_FIELDS = ("number", "short_description", "state", "opened_at", "requester", "requested_for", "catalog_item")


def request_or_404(user, pk) -> Request:
    """The request if the user may read it (requester, requested-for, approver, agent);
    otherwise, as if it did not exist."""
    queryset = Request.objects.select_related("catalog_item", "requester", "requested_for", "form_version")
    return record_or_404(user, Request, pk, queryset=queryset)


def detail_url(req: Request, anchor: str = "") -> str:
    url = reverse("portal:request-detail", args=[req.pk])
    return f"{url}#{anchor}" if anchor else url


def may_manage(user) -> bool:
    return policy.has_permission(user, "service_requests.manage")


# --- Browse ------------------------------------------------------------------------------------


class CatalogBrowseView(PortalMixin, View):
    """The catalog: active items of active categories, grouped by category; ``?category=`` one
    category, ``?q=`` words in the item's name or description. Deactivated items never show."""

    def get(self, request):
        user = request.user
        text = request.GET.get("q", "").replace("\x00", "").strip()[:QUERY_MAX]
        offered = policy.readable(user, CatalogItem).filter(active=True)
        categories = list(
            policy.readable(user, CatalogCategory)
            .filter(active=True)
            .annotate(shown=Count("items", filter=Q(items__in=offered)))
            .filter(shown__gt=0)
            .order_by("position", "name")
        )
        wanted = request.GET.get("category", "")
        chosen = next((c for c in categories if str(c.pk) == wanted), None) if wanted else None
        items = selectors.browse(user, q=text, category=chosen)
        page = paginate(request, items, BROWSE_PAGE_SIZE)
        groups = [
            {"category": category, "items": list(rows)}
            for category, rows in groupby(page.object_list, key=lambda item: item.category)
        ]
        context = {
            "view": {"door": "portal"},
            "tab": "browse",
            "q": text,
            "categories": categories,
            "chosen": chosen,
            "unknown_category": bool(wanted) and chosen is None,
            "groups": groups,
            "page": page,
        }
        return render(request, "catalog/portal/browse.html", context)


class CatalogItemRequestView(PortalMixin, View):
    """An item's request form (its own fields, and whom it is for); a valid submission raises
    the request and lands on its page, a refused one shows the form again with each field's
    error (400), and nothing is written."""

    template_name = "catalog/portal/item.html"

    def item_or_404(self, pk) -> CatalogItem:
        queryset = CatalogItem.objects.filter(active=True, category__active=True).select_related("category")
        return record_or_404(self.request.user, CatalogItem, pk, queryset=queryset)

    def page(self, item, form, meta_form, status=200):
        context = {
            "view": self,
            "tab": "browse",
            "item": item,
            "form": form,
            "meta_form": meta_form,
            "can_request": form is not None,
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, pk):
        item = self.item_or_404(pk)
        if not policy.can(request.user, "create", Request):
            return self.page(item, None, None, status=403)
        return self.page(item, formdef.build_form(item.form_fields), RequestedForForm(user=request.user))

    def post(self, request, pk):
        item = self.item_or_404(pk)
        user = request.user
        if not policy.can(user, "create", Request):
            return self.page(item, None, None, status=403)
        form = formdef.build_form(item.form_fields, data=request.POST)
        meta_form = RequestedForForm(request.POST, user=user)
        raised = {}
        if not meta_form.is_valid():
            form.is_valid()  # every field's error at once
            return self.page(item, form, meta_form, status=400)

        def create(data) -> str:
            req = raised["request"] = services.request_create(
                actor=user, catalog_item=item, form_data=form.cleaned_form_data, requested_for=meta_form.person()
            )
            return (
                f"We have received your request {req.number}. You can follow it on this page "
                "and add a comment here at any time."
            )

        return submit(
            request, form, create, door="portal", then=lambda: detail_url(raised["request"]),
            page=lambda status: self.page(item, form, meta_form, status=status),
            refusal=lambda exc: _form_refusal(form, meta_form, exc),
        )  # fmt: skip


def _form_refusal(form, meta_form, exc: ItsmError) -> str:
    """The service's field messages (``form_data.<name>``, ``requested_for``) on their fields."""
    for key, problems in exc.fields.items():
        name = key.removeprefix("form_data.")
        if name in form.fields and name != key:
            form.add_error(name, problems)
        elif key == "requested_for":
            meta_form.add_error("requested_for", problems)
    if exc.fields:
        return "Please correct the problems below."
    return exc.message


# --- My Requests and the Approval Queue -------------------------------------------------------


class RequestListView(PortalMixin, View):
    """My Requests: the requests I raised, newest first, ``?state=`` one state."""

    def get(self, request):
        user = request.user
        filter_form = RequestFilterForm(request.GET or None)
        columns = [name for name in LIST_COLUMNS if name not in policy.hidden_fields(user, Request)]
        requests = selectors.my_requests(user).defer(*LIST_DEFERRED)
        state = filter_form.chosen()
        if state:
            requests = requests.filter(state=state)
        page = paginate(request, requests, PAGE_SIZE)
        context = {
            "view": {"door": "portal"},
            "tab": "requests",
            "page": page,
            "columns": columns,
            "filter_form": filter_form,
            "state_filter": state,
        }
        return render(request, "catalog/portal/list.html", context, status=400 if filter_form.errors else 200)


class ApprovalQueueView(PortalMixin, View):
    """The requests waiting for the reader's decision: a self-service approver's own pending
    approvals; for holders of ``service_requests.manage``, every request pending approval."""

    def get(self, request):
        user = request.user
        requests = selectors.approvals_awaiting(user).select_related("requested_for").defer(*LIST_DEFERRED)
        page = paginate(request, requests, PAGE_SIZE)
        rows = [
            {
                "request": req,
                "requester": policy.person_name(user, req.requester, req),
                "requested_for": policy.person_name(user, req.requested_for, req) if req.requested_for_id else "",
                "own": req.requester_id == user.pk,
            }
            for req in page.object_list
        ]
        context = {
            "view": {"door": "portal"},
            "tab": "approvals",
            "page": page,
            "rows": rows,
            "manager": may_manage(user),
            "show_level": "approval_level" not in policy.hidden_fields(user, Request),
        }
        return render(request, "catalog/portal/approvals.html", context)


# --- The request page --------------------------------------------------------------------------


def form_answers(user, req: Request) -> list[dict]:
    """The answers the reader may see (``selectors.form_rows``), labelled as the form was when
    submitted (``form_snapshot``)."""
    return [{**row, "long": row["type"] == "textarea"} for row in selectors.form_rows(user, req)]


def decisions(user, req: Request) -> list[dict]:
    """The approval decisions the reader may read (agents: all; an approver: its own; the
    requester: none, the state and the conversation say where it stands), with who decided as
    the policy names people for this reader. Pending and skipped rows are left out."""
    return [
        {
            "level": row.level,
            "decision": row.get_decision_display(),
            "code": row.decision,
            "by": "you"
            if (row.decided_by_id or row.approver_id) == user.pk
            else policy.person_name(user, row.decided_by or row.approver, req),
            "at": row.decided_at,
            "reason": row.reason,
        }
        for row in selectors.approvals_for(user, req)
        if row.decision in (Decision.APPROVED, Decision.REJECTED)
    ]


def back_to(user, req: Request) -> str:
    """Where "Close" leads: My Requests for its own people, else the Approval Queue."""
    if user.pk in (req.requester_id, req.requested_for_id):
        return reverse("portal:request-list")
    return reverse("portal:approval-queue")


def detail_page(request, req: Request, *, status: int = 200, **forms):
    user = request.user
    hidden = policy.hidden_fields(user, Request)
    visible = set(DETAIL_FIELDS) - hidden
    conversation = [
        {
            "note": note,
            "speaker": "You" if note.author_id == user.pk else policy.person_name(user, note.author, req),
            "mine": note.author_id == user.pk,
        }
        for note in selectors.notes_for(user, req, RequestNote.Kind.COMMENT).order_by("created_at", "pk")
    ]
    shown = decisions(user, req)
    can_decide = selectors.awaits_decision(user, req)
    if user.pk in (req.requester_id, req.requested_for_id):
        tab = "requests"
    elif can_decide or any(d["by"] == "you" for d in shown):
        tab = "approvals"
    else:
        tab = ""  # an agent reading someone's request: none of the tabs is where it lives
    forms.setdefault("comment_form", CommentForm())
    if "attach_form" in forms:
        request.attach_form = forms["attach_form"]
    forms.setdefault("reject_form", RejectForm())
    forms.setdefault("complete_form", CompleteForm())
    forms.setdefault("cancel_form", CancelForm())
    forms.setdefault("approve_form", ApproveForm())
    context = {
        "view": {"door": "portal"},
        "tab": tab,
        # The site navigation follows the reader's relation too: an approver's request belongs
        # to the catalog (its Approval Queue), not to "My requests".
        "nav_here": None if tab == "requests" else (reverse("portal:catalog") if tab == "approvals" else ""),
        "req": req,
        "visible": visible,
        "requester_name": policy.person_name(user, req.requester, req),
        "requested_for_name": policy.person_name(user, req.requested_for, req) if req.requested_for_id else "",
        "answers": form_answers(user, req),
        "decisions": shown,
        "show_level": "approval_level" not in hidden,
        "conversation": conversation,
        "can_comment": policy.can(user, "comment", req),
        "can_cancel": policy.can(user, "cancel", req),
        "can_decide": can_decide,
        "can_complete": workflows.may_complete(req, user),
        "close_url": back_to(user, req),
        "attachments": attachment_views.card(
            request, req, upload_url=reverse("portal:request-attach", args=[req.pk]), door="portal"
        ),
        **forms,
    }
    return render(request, "catalog/portal/detail.html", context, status=status)


class RequestDetailView(PortalMixin, View):
    def get(self, request, pk):
        return detail_page(request, request_or_404(request.user, pk))


class RequestActionView(PortalMixin, View):
    """A POST from the request page (or the Approval Queue): form in, one action of the request
    action table (the workflow checks the policy and the state), back to the page."""

    http_method_names = ["post"]
    form_class: type = CommentForm
    form_name = ""
    anchor = ""

    def act(self, req, data) -> str:
        raise NotImplementedError

    def refusal(self, req, exc: ItsmError) -> str:
        return exc.message

    def then(self, req) -> str:
        if self.request.POST.get("next") == "queue":
            return reverse("portal:approval-queue")
        return detail_url(req, self.anchor)

    def post(self, request, pk):
        req = request_or_404(request.user, pk)
        form = self.form_class(request.POST)
        return submit(
            request, form, lambda data: self.act(req, data), door="portal", then=self.then(req),
            refusal=lambda exc: self.refusal(req, exc),
            page=lambda status: detail_page(request, req, status=status, **{self.form_name: form}),
        )  # fmt: skip


class RequestAttachView(RequestActionView):
    """Attach files to the request (everyone who reads the request sees them)."""

    form_class = AttachForm
    form_name = "attach_form"
    anchor = "attachments"

    def post(self, request, pk):
        req = request_or_404(request.user, pk)
        form = AttachForm(request.POST, request.FILES)
        return submit(
            request, form, lambda data: self.act(req, data), door="portal", then=self.then(req),
            refusal=lambda exc: self.refusal(req, exc),
            page=lambda status: detail_page(request, req, status=status, attach_form=form),
        )  # fmt: skip

    def act(self, req, data) -> str:
        added = attachments.attachment_add(record=req, actor=self.request.user, files=data["attachments"])
        return f"Attached {', '.join(item.name for item in added)}."

    def refusal(self, req, exc):
        if isinstance(exc, NotAllowed):
            return "Only the people this request concerns can attach files to it."
        return exc.message


class RequestCommentView(RequestActionView):
    form_class = CommentForm
    form_name = "comment_form"
    anchor = "conversation"

    def act(self, req, data) -> str:
        services.request_note_add(request=req, actor=self.request.user, kind=RequestNote.Kind.COMMENT, body=data["body"])
        return "Your comment has been added."

    def refusal(self, req, exc):
        if isinstance(exc, NotAllowed):
            return "Only the people this request concerns can comment on it."
        return exc.message


class RequestTransitionView(RequestActionView):
    """One transition of the request action table; ``done`` says what happened."""

    action = ""
    done = ""

    def act(self, req, data) -> str:
        req = ACTIONS.run(self.action, req, self.request.user, **data)
        return self.done.format(number=req.number)

    def refusal(self, req, exc):
        # The workflow's state refusal names the agents' transitions; say it in the reader's words.
        if isinstance(exc, TransitionNotAllowed):
            req.refresh_from_db(fields=["state"])
            return f"{req.number} is {state_label(req.state).lower()}: you cannot {self.action} it now."
        return exc.message


class RequestApproveView(RequestTransitionView):
    form_class = ApproveForm
    form_name = "approve_form"
    anchor = "approvals"
    action = "approve"
    done = "You approved {number}. Thank you."


class RequestRejectView(RequestTransitionView):
    form_class = RejectForm
    form_name = "reject_form"
    anchor = "approvals"
    action = "reject"
    done = "You rejected {number}. The person who asked is told why."


class RequestCancelView(RequestTransitionView):
    form_class = CancelForm
    form_name = "cancel_form"
    action = "cancel"
    done = "{number} has been cancelled."


class RequestCompleteView(RequestTransitionView):
    form_class = CompleteForm
    form_name = "complete_form"
    action = "complete"
    done = "{number} is complete."

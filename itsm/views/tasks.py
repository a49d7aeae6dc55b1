"""The desk's tasks tab, the same for every domain: a record's tasks with the actions the user
may take on each (from ``itsm.actions.TASK_ACTIONS``), and the form to add one (``TasksTab`` and
``TaskActionTab`` for a ``RecordTabView``)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.forms.models import fields_for_model
from django.http import Http404
from django.shortcuts import redirect

from itsm import people, policy, services
from itsm.actions import TASK_ACTIONS
from itsm.errors import ItsmError, NotFound
from itsm.models import AssignmentGroup
from itsm.views.base import record_or_404


class TaskForm(forms.Form):
    """A new task: the task fields the user may write when creating one (``WorkTask.FORM_FIELDS``).
    The assignee is typed (``itsm.people``): the people a task of this domain may be given to."""

    def __init__(self, data=None, *, user, model):
        super().__init__(data)
        writable = policy.writable_fields(user, model)
        names = [name for name in model.FORM_FIELDS if name in writable]
        self.fields.update(fields_for_model(model, fields=names))
        if "description" in self.fields:
            self.fields["description"].widget.attrs["rows"] = 3
        if "assignee" in self.fields:
            self.fields["assignee"] = people.PersonField(
                source=people.assignee_source(model).name, user=user, required=False, label="Assignee"
            )
        if "assignment_group" in self.fields:
            self.fields["assignment_group"].queryset = (
                policy.readable(user, AssignmentGroup).filter(is_active=True).order_by("name")
            )
            self.fields["assignment_group"].label = "Group"

    def service_data(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}


def task_rows(user, model, parent) -> list[dict]:
    """The parent's tasks the user may read, oldest first, each with the actions it may take."""
    tasks = (
        policy.readable(user, model)
        .filter(**{model.PARENT: parent})
        .select_related("assignee", "assignment_group")
        .order_by("opened_at", "pk")
    )
    return [{"task": task, "actions": [a.name for a in TASK_ACTIONS.available(user, task)]} for task in tasks]


def task_or_404(user, model, parent, pk):
    """One of the parent's tasks that the user may read."""
    task = record_or_404(user, model, pk)
    if getattr(task, f"{model.PARENT}_id") != parent.pk:
        raise Http404(f"No such {model._meta.verbose_name}.")
    return task


class TasksTab:
    """The tasks tab of a record's desk page (mix into a ``RecordTabView`` subclass): the
    record's tasks with their actions, and the form to add one. A domain sets ``task_model`` (a
    ``WorkTask``); who may be assigned is its people source (``itsm.people``)."""

    tab = "tasks"
    task_model = None

    def task_form(self, data=None) -> TaskForm:
        return TaskForm(data, user=self.request.user, model=self.task_model)

    def tab_context(self, record, forms):
        user = self.request.user
        task_form = forms.get("task_form")
        if task_form is None and policy.can(user, "create", self.task_model):
            task_form = self.task_form()
        return {"tasks": task_rows(user, self.task_model, record), "task_form": task_form}

    def post(self, request, pk):
        record = self.load(pk)
        form = self.task_form(request.POST)

        def create(data) -> str:
            task = services.task_create(
                parent=record, model=self.task_model, actor=request.user, data=form.service_data()
            )
            return f"Task {task.number} has been added."

        return self.write(record, form, "task_form", create)


class TaskActionTab(TasksTab):
    """Start, close or cancel one of the record's tasks (``TASK_ACTIONS``)."""

    http_method_names = ["post"]

    def post(self, request, pk, task_pk, action):
        if action not in TASK_ACTIONS:
            raise Http404("No such action.")
        record = self.load(pk)
        task = task_or_404(request.user, self.task_model, record, task_pk)
        try:
            task = TASK_ACTIONS.run(action, task, request.user)
        except NotFound:
            raise Http404("No such task.") from None
        except ItsmError as exc:
            messages.error(request, f"{task.number}: {exc.message}")
            return self.page(record, status=exc.status)
        messages.success(request, TASK_ACTIONS[action].message(task))
        return redirect(self.tab_url(self.tab, record))

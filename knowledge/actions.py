"""What may be done to an article beyond a plain edit: the one table the API's actions, the
desk's action forms and the admin's bulk actions are made from (``itsm.actions``).

``revise`` and ``restore`` answer the new revision (a draft), ``publish`` of a revision the live
article. Feedback is in the table for the desk and portal; the API's ``feedback/`` answers the
vote rather than the article."""

from __future__ import annotations

from itsm.actions import Action, ActionTable
from knowledge import forms, services, workflows
from knowledge.api import inputs

w = workflows


def _published(article) -> str:
    return f"{article.number} is published (version {article.published_version})."


def _revision(revision) -> str:
    return f"A revision of {revision.number} is started as a draft; the published article stays online."


ACTIONS = ActionTable(
    record="article",
    transitions=workflows.TRANSITIONS,
    actions=[
        Action("submit", w.article_submit, label="Submit for review", done="{number} is submitted for review.",
               form=forms.NoInputForm, doc="Submit a draft (or a revision) for review by a knowledge manager."),
        Action("send-back", w.article_send_back, label="Send back", done="{number} is back in draft.",
               input=inputs.SendBackInput, form=forms.SendBackForm, danger=True,
               doc="Send an article in review back to draft (knowledge managers), saying what it needs."),
        Action("publish", w.article_publish, label="Publish", done=_published, form=forms.NoInputForm,
               admin="Publish the selected articles", past="Published",
               doc="Publish an article in review (knowledge managers); the publication is kept as a new "
                   "version. Publishing a revision updates its live article and answers it."),
        Action("retire", w.article_retire, label="Retire", done="{number} is retired.", form=forms.NoInputForm,
               danger=True, admin="Retire the selected articles", past="Retired",
               doc="Retire a published article (knowledge managers): out of search, suggestions and the portal."),
        Action("revise", w.article_revise, label="Revise", done=_revision, form=forms.NoInputForm,
               doc="Start a revision of a published article: a draft copy, edited and reviewed while the "
                   "published article stays online. Answers the revision."),
        Action("restore", w.article_restore, label="Restore a version", done=_revision,
               input=inputs.RestoreInput, form=forms.RestoreForm,
               doc="Restore an old version of a published article as a revision (a draft). Answers the revision."),
        Action("feedback", services.article_feedback, label="Send feedback", done="Thank you for your feedback.",
               input=inputs.FeedbackInput, form=forms.FeedbackForm,
               doc="Say whether a published article helped, with an optional comment (read by editors only). "
                   "One vote per reader: a second one replaces the first."),
    ],
)  # fmt: skip

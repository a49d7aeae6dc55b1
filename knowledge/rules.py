"""Who may do what to knowledge articles (SPEC §3, §5; issue 16), declared with the article state
machine's states.

* Knowledge editors create articles and edit drafts (until submitted); they read every article
  in every state, submit drafts and start revisions of published ones (also by restoring an old
  version). Knowledge managers (who are editors too) also edit articles in review, send them
  back, publish, retire and delete.
* Agents (platform_agent and above) read published articles, for everyone and agents-only.
* Customers (platform_selfservice) read only published articles for everyone; anything else is
  404. They do not read who wrote or owns an article, its review notes, its revision link or
  the incidents it came from or answers.
* Feedback: whoever reads a published article gives it (one vote each, a second updates it);
  the votes' comments are read by knowledge editors only — a reader reads its own vote, without
  the comment. Votes are written by the feedback service only.
* Versions (the published history) are read by knowledge editors.
* Agents who manage incidents link a published article to an incident they read as its answer
  (``link_incident``; unlinking is the same permission, in any state).
"""

from __future__ import annotations

from itsm.policy.rules import OWN, SS, Act, Read, RecordRules, Update, register, sources
from itsm.roles import Role
from knowledge.models import ArticleState, Audience
from knowledge.workflows import REVISING, TRANSITIONS

EDIT = "knowledge.edit"
PUBLISH = "knowledge.publish"
EDITOR = Role.KNOWLEDGE_EDITOR
KNOWLEDGE_MANAGER = Role.KNOWLEDGE_MANAGER
S = ArticleState

PUBLISHED = frozenset({S.PUBLISHED})
# What a customer never reads on an article: the desk's side of it.
ARTICLE_HIDDEN_FOR_SELF_SERVICE = frozenset(
    {
        "author", "owner", "published_by", "submitted_at", "review_notes", "revision_of",
        "source_incident", "incidents",
    }
)  # fmt: skip
ARTICLE_EDITABLE = ("title", "summary", "body", "category", "keywords", "audience", "owner")

register(
    RecordRules(
        label="knowledge.article",
        states=tuple(S.values),
        initial_state=S.DRAFT,
        create=frozenset({EDITOR}),
        read=(
            Read(EDITOR),
            Read(Role.PLATFORM_AGENT, where=(("state", PUBLISHED),)),
            Read(
                SS,
                where=(("state", PUBLISHED), ("audience", frozenset({Audience.EVERYONE}))),
                hidden=ARTICLE_HIDDEN_FOR_SELF_SERVICE,
            ),
        ),
        update=(
            Update(EDITOR, unless_states=frozenset({S.IN_REVIEW, S.PUBLISHED, S.RETIRED})),
            Update(KNOWLEDGE_MANAGER, unless_states=frozenset({S.PUBLISHED, S.RETIRED})),
        ),
        delete=frozenset({KNOWLEDGE_MANAGER}),
        editable=ARTICLE_EDITABLE,
        actions={
            "submit": (Act(EDIT, states=sources(TRANSITIONS, "submit")),),
            "send-back": (Act(PUBLISH, states=sources(TRANSITIONS, "send-back")),),
            "publish": (Act(PUBLISH, states=sources(TRANSITIONS, "publish")),),
            "retire": (Act(PUBLISH, states=sources(TRANSITIONS, "retire")),),
            "revise": (Act(EDIT, states=REVISING),),
            "restore": (Act(EDIT, states=REVISING),),
            "feedback": (Act(SS, states=PUBLISHED), Act(EDITOR, states=PUBLISHED)),
            "link_incident": (Act("incidents.manage"),),
        },
    ),
    RecordRules(
        label="knowledge.articleversion",
        states=(),
        initial_state="",
        create=frozenset(),
        read=(Read(EDITOR),),
        update=(),
        delete=frozenset(),
    ),
    # Votes are written only by the feedback service (which keeps the article's counts exact).
    RecordRules(
        label="knowledge.articlefeedback",
        states=(),
        initial_state="",
        create=frozenset(),
        read=(Read(EDITOR), Read(SS, scope=OWN, via=("user",), hidden=frozenset({"comment"}))),
        update=(),
        delete=frozenset(),
    ),
)

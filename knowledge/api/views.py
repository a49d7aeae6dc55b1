"""The knowledge API: ``/api/v1/articles/`` (``?search=``), ``articles/suggest/?text=``, the
actions of the article's table (``submit/``, ``send-back/``, ``publish/``, ``retire/``,
``revise/``, ``restore/``), ``feedback/``, ``versions/``, ``diff/?from=&to=``,
``link-incident/`` and ``unlink-incident/``, and ``POST /api/v1/incidents/{id}/promote-to-knowledge/``.

Views only parse input and call a workflow, service or selector; every rule lives there or in
the policy (``knowledge/rules.py``). An article the reader may not read is 404 at every URL.
"""

from __future__ import annotations

from django.core.paginator import InvalidPage, Paginator
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from incidents.models import Incident
from itsm import policy
from itsm.api.actions import ActionsViewSetMixin
from itsm.api.filters import PolicyFilterBackend, PolicyFilterSet, PolicyOrderingFilter
from itsm.api.schema import PolicyAutoSchema
from itsm.api.views import JournalMixin, PolicyViewSet
from itsm.views.base import record_or_404
from knowledge import selectors, services
from knowledge.actions import ACTIONS
from knowledge.api import inputs
from knowledge.api import serializers as s
from knowledge.models import Article, ArticleFeedback, ArticleVersion

SEARCH_MAX = 500


class ArticleFilter(PolicyFilterSet):
    class Meta:
        model = Article
        fields = {
            "state": ["exact", "in"],
            "audience": ["exact"],
            "category": ["exact"],
            "author": ["exact"],
            "owner": ["exact"],
            "revision_of": ["exact", "isnull"],
            "incidents": ["exact"],
            "published_at": ["gte", "lte"],
            "updated_at": ["gte", "lte"],
        }


class ArticleViewSet(ActionsViewSetMixin, JournalMixin, PolicyViewSet):
    """Knowledge articles: everything the reader may read (customers: published articles for
    everyone). With ``search``, the knowledge search instead: published articles holding the
    words, best first, each with ``rank`` and ``snippet`` (PostgreSQL: English full text, with
    stemming, ``"phrases"`` and ``-exclusions``)."""

    action_table = ACTIONS

    queryset = Article.objects.defer(*selectors.VECTORS)
    serializer_class = s.ArticleSerializer
    filterset_class = ArticleFilter
    filter_backends = [PolicyFilterBackend, PolicyOrderingFilter]  # ``search`` is the knowledge search
    prefetch_related = (Prefetch("incidents", Incident.objects.only("pk")),)
    ordering_fields = ["number", "title", "created_at", "updated_at", "published_at", "helpful_count"]
    ordering = ["-id"]

    def _search(self) -> str:
        return self.request.query_params.get("search", "")[:SEARCH_MAX].replace("\x00", "").strip()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "action", None) == "list":
            context["search"] = self._search()
        return context

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "search", str,
                description=f"Words to find: published articles only, the best {selectors.MAX_RESULTS} at most, "
                "best first, each with `rank` and `snippet` (no `ordering`).",
            )
        ]
    )  # fmt: skip
    def list(self, request, *args, **kwargs):
        text = self._search()
        if not text:
            return super().list(request, *args, **kwargs)
        # The knowledge search (``knowledge.selectors``): its own order, the filters apply; the
        # rows and snippets are read for the page only.
        filtered = PolicyFilterBackend().filter_queryset(request, self.get_queryset(), self)
        found = selectors.search_ranked(request.user, text, queryset=filtered)
        paginator = Paginator(found.ranked, self.paginator.get_page_size(request))
        try:
            page = paginator.page(request.query_params.get("page") or 1)
        except InvalidPage:
            raise serializers.ValidationError({"page": ["No such page."]}) from None
        articles = [hit.article for hit in found.hits(page.start_index() - 1, page.end_index())]
        prefetch_related_objects(articles, *self.prefetch_related)
        url = request.build_absolute_uri()
        return Response(
            {
                "count": paginator.count,
                "count_capped": False,  # the best MAX_RESULTS are all there is to page
                "next": replace_query_param(url, "page", page.next_page_number()) if page.has_next() else None,
                "previous": (
                    replace_query_param(url, "page", page.previous_page_number()) if page.has_previous() else None
                ),
                "results": self.get_serializer(articles, many=True).data,
            }
        )

    # --- suggestions -----------------------------------------------------------------------

    @extend_schema(
        parameters=[s.SuggestQuery],
        responses=inline_serializer("ArticleSuggestions", {"results": s.HitSerializer(many=True)}),
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def suggest(self, request):
        """The published articles that best match free text (an incident's short description
        and description as the customer types them): any of its significant words, best first."""
        query = s.SuggestQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        hits = selectors.suggest(request.user, query.validated_data["text"], limit=query.validated_data["limit"])
        return Response({"results": s.HitSerializer(hits, many=True).data})

    # --- feedback --------------------------------------------------------------------------

    @extend_schema(methods=["get"], responses=s.FeedbackSerializer(many=True))
    @extend_schema(methods=["post"], request=inputs.FeedbackInput, responses=s.FeedbackSerializer)
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def feedback(self, request, pk=None):
        """POST: say whether the article helped (one vote per reader; a second one replaces the
        first). GET: the votes the reader may read (knowledge editors: all, with comments)."""
        article = self.get_object()
        if request.method == "POST":
            body = inputs.FeedbackInput(data=request.data)
            body.is_valid(raise_exception=True)
            vote = services.article_feedback(article=article, actor=request.user, **body.validated_data)
            vote.article.refresh_from_db(fields=["helpful_count", "not_helpful_count"])
            return Response(s.FeedbackSerializer(vote, context=self.get_serializer_context()).data)
        votes = policy.readable(request.user, ArticleFeedback).filter(article=article).select_related("article")
        return Response(s.FeedbackSerializer(votes, many=True, context=self.get_serializer_context()).data)

    # --- versions and diffs ----------------------------------------------------------------

    def _versions(self, article):
        if not policy.can(self.request.user, "read", ArticleVersion):
            raise Http404
        return selectors.versions(self.request.user, article)

    @extend_schema(responses=s.ArticleVersionListSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def versions(self, request, pk=None):
        """The article's published versions, newest first (knowledge editors)."""
        return Response(s.ArticleVersionListSerializer(self._versions(self.get_object()), many=True).data)

    @extend_schema(responses=s.ArticleVersionSerializer)
    @action(
        detail=True, methods=["get"], url_path=r"versions/(?P<number>[0-9]+)", pagination_class=None,
        filter_backends=[],
    )  # fmt: skip
    def version(self, request, pk=None, number=None):
        """One published version, with its content."""
        versions = self._versions(self.get_object())
        found = versions.filter(number=int(number)).first() if len(number) < 10 else None
        if found is None:
            raise Http404
        return Response(s.ArticleVersionSerializer(found).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("from", int, required=True, description="The older version's number."),
            OpenApiParameter("to", int, required=True, description="The newer version's number."),
        ],
        responses=s.DiffSerializer,
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def diff(self, request, pk=None):
        """What changed between two published versions: lines with their numbers (context,
        added, removed) and the unified diff."""
        article = self.get_object()
        self._versions(article)
        query = s.DiffQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        old, new = query.validated_data["from"], query.validated_data["to"]
        found = selectors.version_diff(request.user, article, old, new)
        if found is None:
            have = set(self._versions(article).values_list("number", flat=True))
            errors = {name: [f"{article.number} has no version {n}."] for name, n in (("from", old), ("to", new))
                      if n not in have}  # fmt: skip
            raise serializers.ValidationError(errors)
        return Response(s.DiffSerializer(found).data)

    # --- incidents -------------------------------------------------------------------------

    def _link(self, request, service):
        article = self.get_object()
        body = s.IncidentInput(data=request.data)
        body.is_valid(raise_exception=True)
        incident = policy.readable(request.user, Incident).filter(pk=body.validated_data["incident"]).first()
        if incident is None:
            raise serializers.ValidationError({"incident": ["No incident with this id that you may read."]})
        article = service(article=article, incident=incident, actor=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=article.pk)).data)

    @extend_schema(request=s.IncidentInput, responses=s.ArticleSerializer)
    @action(detail=True, methods=["post"], url_path="link-incident", filter_backends=[])
    def link_incident(self, request, pk=None):
        """Link this published article to an incident as its answer (agents)."""
        return self._link(request, services.article_link_incident)

    @extend_schema(request=s.IncidentInput, responses=s.ArticleSerializer)
    @action(detail=True, methods=["post"], url_path="unlink-incident", filter_backends=[])
    def unlink_incident(self, request, pk=None):
        """Remove this article's link to an incident (agents)."""
        return self._link(request, services.article_unlink_incident)


class PromoteToKnowledgeView(APIView):
    """``POST /api/v1/incidents/{id}/promote-to-knowledge/``: a new draft article from a resolved
    or closed incident's resolution (knowledge editors), linked to the incident."""

    permission_classes = [IsAuthenticated]
    schema = PolicyAutoSchema()

    @extend_schema(
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH, description="The incident.")],
        request=None,
        responses={201: s.ArticleSerializer},
    )
    def post(self, request, pk):
        incident = record_or_404(request.user, Incident, pk)
        article = services.article_from_incident(incident=incident, actor=request.user)
        context = {"request": request, "view": self}
        return Response(s.ArticleSerializer(article, context=context).data, status=status.HTTP_201_CREATED)


promote_to_knowledge = PromoteToKnowledgeView.as_view()

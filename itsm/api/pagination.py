from collections import OrderedDict

from django.core.paginator import InvalidPage
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from itsm.pagination import COUNT_CAP, CappedPaginator, InvalidCursor, KeysetPage, keyset_for


class Pagination(PageNumberPagination):
    """Page numbers over a count capped at 1,000, and cursors past it (see ``itsm.pagination``).

    ``count`` is exact below the cap; past it ``count_capped`` is true and ``count`` is the cap.
    ``?page=N`` works as it always did, but once the next page would start past the counted
    rows, ``next`` is a ``?cursor=`` link: the page after the last row of this one, read from
    the index, so a client that follows ``next`` never pays for a deep ``OFFSET``. On a cursor
    page both ``next`` and ``previous`` are cursor links. A cursor belongs to the ordering it
    was made in; with another ``ordering`` (or edited by hand) it is a 400 naming ``cursor``.
    Orderings that cannot carry a cursor (see ``keyset_for``) keep page numbers throughout.
    """

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = CappedPaginator
    cursor_query_param = "cursor"
    cursor_query_description = (
        f"A position in the list, from a `next` or `previous` link (past the first {COUNT_CAP:,} rows "
        "`next` gives one instead of a page number). Takes the place of `page`, and is only valid "
        "with the `ordering` it was made in."
    )

    page_size_query_description = (
        "How many results a page holds: a whole number from 1; above 200 gives 200. Anything else "
        "is a 400 naming `page_size`."
    )

    def get_page_size(self, request):
        """``page_size`` if given (capped at ``max_page_size``), else the default; a value that is
        not a whole number of at least 1 is refused rather than quietly replaced."""
        value = request.query_params.get(self.page_size_query_param, "")
        if value == "":
            return self.page_size
        digits = value.lstrip("0")
        if not (value.isascii() and value.isdigit()) or not digits:
            raise ValidationError({self.page_size_query_param: ["Give a whole number of at least 1."]})
        # However many digits it has: a long number is simply more than a page holds.
        return self.max_page_size if len(digits) > 6 else min(int(digits), self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        page_size = self.get_page_size(request)
        paginator = self.django_paginator_class(
            queryset, page_size, keyset=keyset_for(queryset, user=request.user)
        )
        token = request.query_params.get(self.cursor_query_param)
        if token:
            try:
                self.page = paginator.cursor_page(token)
            except InvalidCursor as exc:
                raise ValidationError({self.cursor_query_param: [str(exc)]}) from None
            return list(self.page)
        page_number = self.get_page_number(request, paginator)
        try:
            self.page = paginator.page(page_number)
        except InvalidPage as exc:
            message = self.invalid_page_message.format(page_number=page_number, message=str(exc))
            raise NotFound(message) from None
        if paginator.num_pages > 1 and not paginator.capped and self.template is not None:
            self.display_page_controls = True
        return list(self.page)

    def _cursor_link(self, token):
        if token is None:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        return replace_query_param(url, self.cursor_query_param, token)

    def _page_link(self, link):
        return remove_query_param(link, self.cursor_query_param) if link else link

    def get_next_link(self):
        if isinstance(self.page, KeysetPage) or self.page.next_cursor:
            return self._cursor_link(self.page.next_cursor)
        return self._page_link(super().get_next_link())

    def get_previous_link(self):
        if isinstance(self.page, KeysetPage):
            return self._cursor_link(self.page.previous_cursor)
        return self._page_link(super().get_previous_link())

    def get_paginated_response(self, data):
        return Response(
            OrderedDict(
                [
                    ("count", self.page.paginator.count),
                    ("count_capped", self.page.paginator.capped),
                    ("next", self.get_next_link()),
                    ("previous", self.get_previous_link()),
                    ("results", data),
                ]
            )
        )

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count_capped"] = {
            "type": "boolean",
            "description": f"True when there are more rows than the count says (it stops at {COUNT_CAP:,}).",
        }
        schema["properties"]["next"]["description"] = (
            "The next page: a page number link, or past the counted rows a `cursor` link."
        )
        schema["properties"]["previous"]["description"] = (
            "The previous page: a page number link, or on a cursor page a `cursor` link."
        )
        schema["required"] = [*schema.get("required", []), "count_capped"]
        return schema

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return [
            *parameters,
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": self.cursor_query_description,
                "schema": {"type": "string"},
            },
        ]

from collections import OrderedDict

from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from itsm.pagination import CappedPaginator


class Pagination(PageNumberPagination):
    """Page numbers over a count capped at 1,000 (see ``itsm.pagination``): ``count`` is exact
    below the cap; past it ``count_capped`` is true, ``count`` is the cap, and ``next`` keeps
    going while there are rows."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = CappedPaginator

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
            "description": "True when there are more rows than the count says (it stops at 1,000).",
        }
        schema["required"] = [*schema.get("required", []), "count_capped"]
        return schema

"""Pagination that stays fast on a million rows: the total is counted only up to a cap.

An exact ``COUNT(*)`` over a queue of a million incidents costs more than the page itself. The
``CappedPaginator`` counts at most ``cap + 1`` rows (``SELECT COUNT(*) FROM (… LIMIT cap + 1)``,
which stops early on an index); past the cap it says "more than 1,000" and still serves every
later page: a page past the counted ones exists while it has rows. Pages and the API say when
the count is a lower bound (``count_capped``).
"""

from __future__ import annotations

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.utils.functional import cached_property

COUNT_CAP = 1_000


class CappedPage(Page):
    def has_next(self) -> bool:
        if self.paginator.capped:
            return len(self.object_list) == self.paginator.per_page
        return super().has_next()


class CappedPaginator(Paginator):
    cap = COUNT_CAP

    @cached_property
    def _counted(self) -> int:
        object_list = self.object_list
        if hasattr(object_list, "query") and not object_list.query.is_sliced:
            # Ordering is dropped: the count needs no sort, and can stop after cap + 1 rows.
            return object_list.order_by()[: self.cap + 1].count()
        if hasattr(object_list, "query"):
            return object_list.count()
        return len(object_list)

    @property
    def capped(self) -> bool:
        return self._counted > self.cap

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    def validate_number(self, number):
        if not self.capped:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer.") from None
        if number < 1:
            raise EmptyPage("That page number is less than 1.")
        return number

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        page = self._get_page(list(self.object_list[bottom : bottom + self.per_page]), number, self)
        if self.capped and number > 1 and not page.object_list:
            raise EmptyPage("That page contains no results.")
        return page

    def _get_page(self, *args, **kwargs):
        return CappedPage(*args, **kwargs)

    @property
    def count_label(self) -> str:
        return f"more than {self.cap:,}" if self.capped else f"{self.count:,}"

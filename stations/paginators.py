"""A paginator for admin lists that never counts a whole large table."""

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

# Below this many rows (by the planner's estimate) an exact COUNT(*) is cheap enough.
EXACT_COUNT_BELOW = 50_000


class EstimatedCountPaginator(Paginator):
    """
    Count exactly when the list is filtered or small; on PostgreSQL, estimate an unfiltered
    list of a large table from the planner's statistics instead of ``COUNT(*)``.

    The admin shows "about N" pages then; ``show_full_result_count = False`` keeps it from
    counting the whole table a second time.
    """

    @cached_property
    def count(self):
        queryset = self.object_list
        estimate = self._estimate(queryset)
        if estimate is not None and estimate >= EXACT_COUNT_BELOW:
            return estimate
        return super().count

    @staticmethod
    def _estimate(queryset) -> int | None:
        query = getattr(queryset, "query", None)
        if query is None or query.where or query.distinct or query.combinator:
            return None
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [queryset.model._meta.db_table],
            )
            row = cursor.fetchone()
        if not row or row[0] is None or row[0] < 0:
            return None
        return int(row[0])

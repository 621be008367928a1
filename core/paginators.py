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

    The unfiltered case is one query whatever the size: the planner's estimate, or the
    exact count when the estimate is small (or the table was never analysed). The admin
    shows "about N" pages then; ``show_full_result_count = False`` keeps it from counting
    the whole table a second time.
    """

    @cached_property
    def count(self):
        queryset = self.object_list
        if self._unfiltered_on_postgresql(queryset):
            connection = connections[queryset.db]
            quoted = connection.ops.quote_name(queryset.model._meta.db_table)
            # The table name comes from the model and is quoted by the backend.
            sql = (
                "SELECT CASE WHEN c.reltuples >= %s THEN c.reltuples::bigint "  # noqa: S608
                f"ELSE (SELECT COUNT(*) FROM {quoted}) END "
                "FROM pg_class c WHERE c.oid = %s::regclass"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, [EXACT_COUNT_BELOW, quoted])
                row = cursor.fetchone()
            if row and row[0] is not None:
                return int(row[0])
        return super().count

    @staticmethod
    def _unfiltered_on_postgresql(queryset) -> bool:
        query = getattr(queryset, "query", None)
        if query is None or query.where or query.distinct or query.combinator:
            return False
        return connections[queryset.db].vendor == "postgresql"

"""Set-based report SQL: querysets built by the ORM (scoped by the policy) joined as derived
tables in one statement, and the 0/1 flags the outer query sums. Used by the caseload report
and the period-true figures (reports.indicators)."""

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Case, IntegerField, Value, When


def flag(condition):
    """1 where `condition` holds for the row, else 0: what the outer query sums."""
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def run_joined(outer, **tables):
    """Run `outer` with each `{name}` replaced by the SQL of the queryset `tables[name]`,
    in the order they appear, and return its rows.

    A report is set-based when each figure is aggregated once per client and joined, not
    computed by a correlated subquery for every client (4–6 index probes for each of 90 000
    clients, and a plan costly enough for PostgreSQL to JIT-compile it: seconds). Django's
    ORM joins models, not grouped querysets, so the querysets (scoped by the policy, built
    by the ORM) are joined here as derived tables. None is answered for a reach that is
    empty by construction (a role without reports), whose SQL Django will not write."""
    # Each table once, so that the parameters follow the order of the placeholders.
    assert all(outer.count("{" + name + "}") == 1 for name in tables), "each derived table appears once"
    params = []
    compiled = {}
    for name in sorted(tables, key=lambda name: outer.index("{" + name + "}")):
        try:
            sql, table_params = tables[name].query.sql_with_params()
        except EmptyResultSet:
            return None
        compiled[name] = sql
        params.extend(table_params)
    with connection.cursor() as cursor:
        cursor.execute(outer.format(**compiled), params)
        return cursor.fetchall()

"""Admin lists over tables of millions of rows (survey responses, comments, the audit log)
page through them without counting them: counting ten million rows takes seconds.

The count shown is PostgreSQL's planner estimate when the list is unfiltered or the
estimate is large; a filter or search that keeps few rows is counted exactly. A data admin
who needs the exact number asks for it ("Count exactly"), which is one count on demand.
Other databases count exactly.
"""

import json

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

COUNT_VAR = "count"  # ?count=exact asks for the exact number
EXACT_BELOW = 10_000  # an estimate below this is counted exactly (few rows: cheap)


def planner_estimate(queryset):
    """The number of rows PostgreSQL's planner expects ``queryset`` to return (one EXPLAIN,
    which reads no rows)."""
    plan = queryset.order_by().explain(format="json")
    return int(json.loads(plan)[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    def __init__(self, *args, exact=False, exact_url="", **kwargs):
        super().__init__(*args, **kwargs)
        self.exact = exact
        self.exact_url = exact_url
        self.estimated = False

    @cached_property
    def count(self):
        queryset = self.object_list
        if self.exact or connections[queryset.db].vendor != "postgresql":
            return queryset.count()
        estimate = planner_estimate(queryset)
        if queryset.query.has_filters() and estimate < EXACT_BELOW:
            return queryset.count()
        self.estimated = True
        return estimate

    def page(self, number):
        # An estimate may be short of the real number: the last page is not cut at it.
        number = self.validate_number(number)
        if not self.estimated:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        return self._get_page(self.object_list[bottom : bottom + self.per_page], number, self)

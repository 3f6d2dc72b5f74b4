"""The admin site: Django's, with this project's titles, login form and first page, refusing
with a 400 the crafted addresses and selections that its lists pass to the database unchecked.

Django's change lists turn a date-part lookup of the address (``?responded_on__year=``) into a
query without checking its range, and the selection of a bulk action (``_selected_action``)
into ``pk__in`` without checking that each id can be one: both ended in a 500 (an overflow, or
"expected a number"). Every admin view, this project's and the installed apps', goes through
``admin_view``, so the checks are made there, once, for every list.
"""

import functools

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.urls import path, reverse_lazy

from scorecards import admin_home

from .forms import AdminLoginForm
from .security import refused

# The date parts an address may filter on, and the values each can have.
DATE_PARTS = {
    "year": (1, 9999), "iso_year": (1, 9999), "month": (1, 12), "day": (1, 31),
    "week": (1, 53), "week_day": (1, 7), "iso_week_day": (1, 7), "quarter": (1, 4),
    "hour": (0, 23), "minute": (0, 59), "second": (0, 59),
}  # fmt: skip


def _date_part_error(params):
    """(key, message) for the first date-part lookup of ``params`` out of its range, or None."""
    for key, value in params.items():
        part = key.rsplit("__", 1)[-1] if "__" in key else ""
        if part not in DATE_PARTS:
            continue
        low, high = DATE_PARTS[part]
        number = value.strip()
        if not (number.isascii() and number.isdigit() and len(number) <= 4
                and low <= int(number) <= high):  # fmt: skip
            return key, f"{key} must be a whole number from {low} to {high}, not {value[:20]!r}."
    return None


def _selection_error(model, ids):
    """(key, message) for the first selected id that cannot be a primary key of ``model``."""
    pk = model._meta.pk
    while pk.is_relation:  # a primary key that is a one-to-one link holds its target's key
        pk = pk.target_field
    low, high = (None, None)
    if isinstance(pk, models.IntegerField):
        low, high = connection.ops.integer_field_range(pk.get_internal_type())
    message = "The selection holds {!r}, which is not a row of this list."
    for value in ids:
        try:
            key = pk.to_python(value)
        except ValidationError:
            return "_selected_action", message.format(value[:20])
        if low is not None and not low <= key <= high:
            return "_selected_action", message.format(value[:20])
    return None


class AdminSite(admin.AdminSite):
    site_header = "MSO Evaluator data admin"
    site_title = "MSO Evaluator"
    login_form = AdminLoginForm
    # The first page: what data admins do, above the list of tables (scorecards.admin_home).
    index_template = "admin/home.html"

    def index(self, request, extra_context=None):
        return super().index(
            request, extra_context={**admin_home.home_context(request), **(extra_context or {})}
        )

    def get_urls(self):
        """Django's, after the first page's own (before the catch-all that answers 404)."""
        home = [path("scorecards/recompute/", self._site_view(admin_home.recompute),
                     name="scorecards_recompute")]  # fmt: skip
        return home + super().get_urls()

    def _site_view(self, view):
        """``view`` as Django wraps the site's own (its index, its password change): staff only,
        and anonymous users sent to the admin's login, which LoginRequiredMiddleware reads from
        ``login_url``."""
        wrapped = self.admin_view(view)
        wrapped.login_url = reverse_lazy("admin:login", current_app=self.name)
        return wrapped

    def admin_view(self, view, cacheable=False):
        """Django's, with the checks above for a model's change list (the view that filters
        by the address and runs bulk actions; no other view is touched)."""
        model = getattr(getattr(view, "__self__", None), "model", None)
        if model is None or getattr(view, "__name__", "") != "changelist_view":
            return super().admin_view(view, cacheable)

        @functools.wraps(view)
        def checked(request, *args, **kwargs):
            error = _date_part_error(request.GET)
            if error is None and request.method == "POST":
                error = _selection_error(model, request.POST.getlist("_selected_action"))
            if error is not None:
                field, message = error
                return refused(request, message, reason="not a value it can take", fields=[field])
            return view(request, *args, **kwargs)

        return super().admin_view(checked, cacheable)

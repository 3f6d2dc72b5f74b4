"""The roles page: a data admin gives people the Surgeon or Consultant role and takes it back.

Only those two roles: making someone a data admin, staff or superuser stays with a superuser
(the user admin). Each change is a group membership, which the audit trail records with who
made it (partners.audit registers the users' groups)."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache

from .roles import CONSULTANT, DATA_ADMIN, ROLES, SURGEON, user_has_role

GRANTABLE = (SURGEON, CONSULTANT)
PAGE_SIZE = 25
SUPERUSER_REFUSED = "A superuser's roles are changed by another superuser, in the user admin."


def role_change(*, user, role, granted):
    """Give ``user`` the role (``granted``) or take it away; returns whether anything changed.
    Refuses roles other than Surgeon and Consultant, and superusers."""
    if role not in GRANTABLE:
        raise PermissionDenied(f"Only the {' and '.join(GRANTABLE)} roles are given here.")
    if user.is_superuser:
        raise PermissionDenied(SUPERUSER_REFUSED)
    with transaction.atomic():
        group = Group.objects.get(name=role)
        had = user.groups.filter(pk=group.pk).exists()
        if had == granted:
            return False
        (user.groups.add if granted else user.groups.remove)(group)
    return True


def users_with_roles(*, search=""):
    """Users matching ``search`` (username, e-mail or name), with their role groups."""
    users = (
        get_user_model()
        .objects.order_by("username", "pk")
        .prefetch_related(
            Prefetch("groups", queryset=Group.objects.filter(name__in=ROLES), to_attr="roles")
        )
    )
    for word in search.split():
        users = users.filter(
            Q(username__icontains=word)
            | Q(email__icontains=word)
            | Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
        )
    return users


@never_cache
def user_roles(request):
    """In the admin's look, but open to data admins only (others get 403, staff or not)."""
    if not user_has_role(request.user, DATA_ADMIN):
        raise PermissionDenied
    if request.method == "POST":
        return _change(request)
    search = request.GET.get("q", "").strip()
    page = Paginator(users_with_roles(search=search), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {"user": user, "superuser": user.is_superuser,
         "roles": [(role, role in {g.name for g in user.roles}) for role in GRANTABLE],
         "data_admin": user.is_superuser or any(g.name == DATA_ADMIN for g in user.roles)}
        for user in page
    ]  # fmt: skip
    context = {
        **admin.site.each_context(request), "title": "People and their roles",
        "page": page, "rows": rows, "search": search,
        "back": urlencode({k: v for k, v in (("q", search), ("page", page.number)) if v}),
    }  # fmt: skip
    return TemplateResponse(request, "admin/partners/user_roles.html", context)


def _change(request):
    role, action = request.POST.get("role"), request.POST.get("action")
    if action not in ("grant", "remove"):
        return HttpResponseBadRequest("Choose to give or to remove the role.")
    person = get_object_or_404(get_user_model(), pk=request.POST.get("user"))
    try:
        changed = role_change(user=person, role=role, granted=action == "grant")
    except PermissionDenied as exc:
        messages.error(request, str(exc) or "That change is not allowed here.")
    else:
        if not changed:
            messages.info(
                request,
                f"Nothing changed: {person} "
                f"{'already has' if action == 'grant' else 'does not have'} "
                f"the {role} role.",
            )
        elif action == "grant":
            messages.success(request, f"The {role} role was given to {person}.")
        else:
            messages.success(request, f"The {role} role was removed from {person}.")
    back = request.POST.get("back", "")
    url = reverse("user_roles")
    return redirect(f"{url}?{back}" if back and "/" not in back and ":" not in back else url)

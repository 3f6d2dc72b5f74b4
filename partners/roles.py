"""The users' roles: Django groups of the same names, and how code asks about them."""

from django.contrib.auth.models import Group, Permission

# Role names are also group names.
SURGEON = "Surgeon"
CONSULTANT = "Consultant"
DATA_ADMIN = "Data admin"
ROLES = (SURGEON, CONSULTANT, DATA_ADMIN)


def roles_sync(*, using="default"):
    """Create the role groups; data admins may change everything in the evidence apps."""
    groups = {name: Group.objects.using(using).get_or_create(name=name)[0] for name in ROLES}
    perms = Permission.objects.using(using).filter(
        content_type__app_label__in=["partners", "scorecards"]
    )
    # The audit trail: data admins read it; nobody changes it (see partners/audit.py).
    audit = Permission.objects.using(using).filter(
        content_type__app_label="auditlog", codename="view_logentry"
    )
    groups[DATA_ADMIN].permissions.set([*perms, *audit])
    return groups


def user_roles(user):
    """The names of the user's roles (a superuser has them all): one query per user object,
    remembered on it for the rest of the request."""
    if not user.is_authenticated:
        return frozenset()
    if user.is_superuser:
        return frozenset(ROLES)
    if not hasattr(user, "_role_names"):
        user._role_names = frozenset(
            user.groups.filter(name__in=ROLES).values_list("name", flat=True)
        )
    return user._role_names


def user_has_role(user, role):
    return role in user_roles(user)


# Pages a signed-in user without any role may still open: their own account, nothing else.
WITHOUT_ROLE_URL_NAMES = frozenset({
    "login", "logout", "healthz", "password_change", "password_change_done",
    "password_reset", "password_reset_done", "password_reset_confirm", "password_reset_complete",
})  # fmt: skip


class RoleRequiredMiddleware:
    """A signed-in user in none of the roles gets a page saying to ask for access (403) on
    every page but the few above; anonymous users are left to LoginRequiredMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user_roles(user):
            return None
        match = request.resolver_match
        if match and match.url_name in WITHOUT_ROLE_URL_NAMES and not match.namespace:
            return None
        from django.shortcuts import render

        return render(request, "registration/no_role.html", status=403)

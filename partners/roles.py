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
    groups[DATA_ADMIN].permissions.set(perms)
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

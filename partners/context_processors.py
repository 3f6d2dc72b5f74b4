from django.utils.functional import SimpleLazyObject

from .roles import ROLES


def roles(request):
    """``roles`` in templates: the names of the current user's role groups (looked up lazily)."""

    def names():
        # Error pages may be rendered for a request the auth middleware never saw.
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return set()
        if user.is_superuser:
            return set(ROLES)
        return set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))

    return {"roles": SimpleLazyObject(names)}

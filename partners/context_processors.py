from django.utils.functional import SimpleLazyObject

from .services import ROLES


def roles(request):
    """``roles`` in templates: the names of the current user's role groups (looked up lazily)."""

    def names():
        user = request.user
        if not user.is_authenticated:
            return set()
        if user.is_superuser:
            return set(ROLES)
        return set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))

    return {"roles": SimpleLazyObject(names)}

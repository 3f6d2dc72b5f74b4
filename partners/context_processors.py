from django.utils.functional import SimpleLazyObject

from .roles import user_roles


def roles(request):
    """``roles`` in templates: the names of the current user's role groups (looked up lazily)."""

    def names():
        # Error pages may be rendered for a request the auth middleware never saw.
        user = getattr(request, "user", None)
        if user is None:
            return set()
        return set(user_roles(user))

    return {"roles": SimpleLazyObject(names)}

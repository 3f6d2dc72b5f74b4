from django import template

register = template.Library()


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def percent(share):
    """0.863 -> '86%'; empty for None."""
    if share is None:
        return ""
    return f"{round(100 * share)}%"

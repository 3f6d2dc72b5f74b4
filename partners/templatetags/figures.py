"""The one way figures and dates are written (``partners.formatting``), as template filters."""

from django import template

from .. import formatting

register = template.Library()
register.filter("count", formatting.count_text)
register.filter("day", formatting.day_text)
register.filter("moment", formatting.moment_text)

"""The one way figures and dates are written (``partners.formatting``), as template filters. A
moment is written in the site's time zone, as Django's own date filter would."""

import datetime

from django import template
from django.utils import timezone

from .. import formatting

register = template.Library()
register.filter("count", formatting.count_text)


def _local(value):
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


@register.filter
def day(value):
    return formatting.day_text(_local(value))


@register.filter
def moment(value):
    return formatting.moment_text(_local(value))

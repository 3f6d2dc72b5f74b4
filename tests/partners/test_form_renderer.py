"""The renderer of the admin's long inline tables writes each widget it knows in Python: to
the character what Django's templates write, escaping included."""

import datetime
import re

import pytest
from django import forms
from django.contrib.admin import widgets as admin_widgets
from django.forms.renderers import DjangoTemplates
from django.urls import reverse
from django.utils.safestring import mark_safe

from partners import form_renderer
from partners.form_renderer import PythonWidgetRenderer

from .factories import affiliate, make_mso, make_practice

TRICKY = 'Smith & "Sons" <b>'
CHOICES = [("", "---------"), ("1", TRICKY), ("Group <1>", [("2", "Two"), (3, "Three")])]
WIDGETS = [
    (forms.TextInput(), "name", None),
    (forms.TextInput(attrs={"class": "vTextField", "maxlength": 200}), "name", TRICKY),
    (forms.TextInput(attrs={"required": True, "disabled": False, "data-x": TRICKY}), "n", ""),
    (forms.TextInput(), "n", mark_safe("<i>safe</i>")),
    (forms.HiddenInput(), "affiliations-0-id", 12),
    (forms.NumberInput(attrs={"step": 5}), "weight", 0),
    (forms.DateInput(), "on", datetime.date(2026, 1, 2)),
    (forms.CheckboxInput(), "affiliations-0-DELETE", False),
    (forms.CheckboxInput(), "affiliations-0-DELETE", True),
    (admin_widgets.AdminDateWidget(), "affiliations-3-started_on", datetime.date(2020, 1, 1)),
    (admin_widgets.AdminDateWidget(), "affiliations-__prefix__-ended_on", None),
    (forms.Select(choices=CHOICES), "pick", "2"),
    (forms.Select(choices=CHOICES), "pick", None),
    (forms.Select(choices=CHOICES, attrs={"class": "admin-autocomplete"}), "pick", "1"),
    (forms.SelectMultiple(choices=CHOICES), "picks", ["1", "3"]),
    (forms.Textarea(), "notes", TRICKY),  # not written in Python: Django's template
]


@pytest.mark.parametrize(("widget", "name", "value"), WIDGETS)
def test_each_widget_renders_as_django_renders_it(widget, name, value):
    attrs = {"id": f"id_{name}"}
    django = widget.render(name, value, attrs=attrs, renderer=DjangoTemplates())
    assert widget.render(name, value, attrs=attrs, renderer=PythonWidgetRenderer()) == django


def _without_csrf_tokens(html):
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


@pytest.mark.django_db
def test_the_mso_change_page_is_the_same_page_with_or_without_it(client, data_admin, monkeypatch):
    mso = make_mso()
    mso.services.create(area="marketing", detail=TRICKY)
    for i in range(3):
        affiliate(make_practice(f"P-{i}", name=f"{TRICKY} {i}"), mso,
                  ended_on=datetime.date(2021, 1, 1) if i == 0 else None)  # fmt: skip
    client.force_login(data_admin)
    url = reverse("admin:partners_mso_change", args=[mso.pk])
    written = client.get(url).content.decode()
    monkeypatch.setattr(form_renderer, "renderer", DjangoTemplates())
    assert _without_csrf_tokens(written) == _without_csrf_tokens(client.get(url).content.decode())
    assert "P-2" in written and "Smith &amp; &quot;Sons&quot; &lt;b&gt;" in written

"""A form renderer for the admin's long inline tables: the widget templates they repeat
hundreds of times (inputs, hidden fields, check boxes, dates, selects and their options) are
written in Python, to the character what Django's templates write; every other template is
Django's.

An MSO's change page has a row per affiliation (55 for the largest MSO), six widgets a row:
rendered through the template engine, the widgets were more than half of the page's time,
each one an include of an include with a loop over its attributes.
``tests/partners/test_form_renderer.py`` renders each widget both ways and compares them.
"""

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe


def _text(value):
    """``{{ value|stringformat:'s' }}``: the value as a string, escaped unless it was safe."""
    text = str(value) if isinstance(value, tuple) else "%s" % (value,)  # noqa: UP031 (the filter's)
    return conditional_escape(mark_safe(text) if isinstance(value, SafeData) else text)


def _attrs(attrs):
    """django/forms/widgets/attrs.html"""
    return "".join(
        f" {conditional_escape(name)}" if value is True
        else f' {conditional_escape(name)}="{_text(value)}"'
        for name, value in attrs.items() if value is not False
    )  # fmt: skip


def _input(widget):
    """django/forms/widgets/input.html, without its final newline."""
    value = widget["value"]
    value = f' value="{_text(value)}"' if value != None else ""  # noqa: E711 (the template's)
    name, kind = conditional_escape(widget["name"]), conditional_escape(widget["type"])
    return f'<input type="{kind}" name="{name}"{value}{_attrs(widget["attrs"])}>'


class PythonWidgetRenderer(DjangoTemplates):
    """Django's renderer, with the templates of ``WRITTEN`` written by methods of this class
    (each returns what the template renders, before the renderer strips it)."""

    WRITTEN = {
        "django/forms/widgets/input.html": "_input",
        "django/forms/widgets/hidden.html": "_included_input",
        "django/forms/widgets/text.html": "_included_input",
        "django/forms/widgets/checkbox.html": "_included_input",
        "django/forms/widgets/date.html": "_included_input",
        "django/forms/widgets/number.html": "_included_input",
        "admin/widgets/date.html": "_admin_date",
        "django/forms/widgets/select.html": "_select",
        "django/forms/widgets/select_option.html": "_select_option",
    }

    def render(self, template_name, context, request=None):
        method = self.WRITTEN.get(template_name)
        if method is None:
            return super().render(template_name, context, request)
        return mark_safe(getattr(self, method)(context["widget"]).strip())

    def _include(self, template_name, widget):
        """``{% include template_name %}`` with ``widget``, unstripped as an include is."""
        method = self.WRITTEN.get(template_name)
        if method is None:
            return self.get_template(template_name).render({"widget": widget})
        return getattr(self, method)(widget)

    def _input(self, widget):
        return _input(widget) + "\n"

    def _included_input(self, widget):
        return _input(widget) + "\n\n"

    def _admin_date(self, widget):
        return f'<p class="date">\n  {_input(widget)}\n\n\n</p>\n'

    def _select(self, widget):
        out = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, group_choices, _ in widget["optgroups"]:
            if group_name:
                out.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            for option in group_choices:
                out.append("\n  " + self._include(option["template_name"], option))
            if group_name:
                out.append("\n  </optgroup>")
        out.append("\n</select>\n")
        return "".join(out)

    def _select_option(self, widget):
        return (f'<option value="{_text(widget["value"])}"{_attrs(widget["attrs"])}>'
                f'{conditional_escape(widget["label"])}</option>\n')  # fmt: skip


renderer = PythonWidgetRenderer()

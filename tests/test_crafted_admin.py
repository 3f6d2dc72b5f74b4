"""Crafted input to the admin answers a 4xx or the form back with an error, never a 500, and
writes nothing: every registered model's change form (each field given a value it cannot
hold, in an otherwise valid submission), every change list's date-part lookups and filters,
every bulk action with ids that cannot be rows, and the autocomplete.

The change form's submission is the one its page would send for an existing row (the demo
data has one of most models), so that a crafted value is what stands between the form and the
database."""

import pytest
from django.contrib import admin
from django.db import models
from django.forms.models import model_to_dict
from django.urls import NoReverseMatch, reverse

from partners.models import DAY_RANGE_MESSAGE

pytestmark = pytest.mark.django_db

# Values no field of the kind can hold ("day" is a date field; "date", a date and time).
BAD = {
    "date": ["99999-01-01", "2024-02-30", "0000-01-01"],
    "day": ["99999-01-01", "2024-02-30", "0000-01-01", "9999-12-31", "0001-01-01"],
    "number": ["9" * 5000, "-9" + "9" * 30, "2.5e400", "NaN", "١٢x"],
    "char": ["x" * (1 << 20)],
    "json": ["[" * 5000 + "]" * 5000, '{"a":' * 3000 + "1" + "}" * 3000],
}
# Days a date field can hold but evidence cannot be dated: refused with the accepted range.
FAR_DAYS = {"9999-12-31", "0001-01-01"}
LIST_QUERIES = [{"{date}__year": "99999999999999"}, {"{date}__month": "13"},
                {"{date}__day": "x"}, {"q": "x" * 100_000}, {"o": "99"},
                {"p": "99999999999999999999"}, {"all": ""}]  # fmt: skip


def _kind(field):
    if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
        return "day"
    if isinstance(field, models.DateField):
        return "date"
    if isinstance(field, models.IntegerField | models.DecimalField | models.FloatField):
        return "number"
    if isinstance(field, models.JSONField):
        return "json"
    if isinstance(field, models.CharField) and field.max_length:
        return "char"
    return None


def _admins():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "pw")


def _submission(page):
    """The POST data the change page's form would send unchanged."""
    data = {}
    forms = [page.context["adminform"].form]
    for inline in page.context.get("inline_admin_formsets", []):
        formset = inline.formset
        management = formset.management_form
        for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            data[management[name].html_name] = management[name].value()
        data[management["TOTAL_FORMS"].html_name] = len(formset.initial_forms)
        forms += formset.initial_forms
    for form in forms:
        for bound in form:
            value = bound.value()
            if value is not None and not bound.field.disabled:
                data[bound.html_name] = value if not isinstance(value, bool) else (
                    "on" if value else "")  # fmt: skip
    return {k: v for k, v in data.items() if v != ""}


@pytest.mark.parametrize("model", [m for m, _a in _admins()], ids=lambda m: m._meta.label)
def test_a_change_form_refuses_a_value_its_field_cannot_hold(client, snapshot, superuser, model):
    client.force_login(superuser)
    client.raise_request_exception = False
    obj = model._default_manager.order_by("pk").first()
    try:
        url = _url(model, "change", obj.pk) if obj is not None else _url(model, "add")
    except NoReverseMatch:
        pytest.skip("no change form")
    page = client.get(url)
    if page.status_code != 200 or "adminform" not in page.context:
        pytest.skip("read-only")
    fields = page.context["adminform"].form.fields
    base, before = _submission(page), (model._default_manager.count(), obj and model_to_dict(obj))
    problems, tried = [], 0
    for field in model._meta.concrete_fields:
        kind = _kind(field)
        if not kind or field.primary_key or field.name not in fields:
            continue
        for value in BAD[kind]:
            tried += 1
            response = client.post(url, {**base, field.name: value})
            if response.status_code == 400:
                continue
            if response.status_code != 200:
                problems.append((field.name, value[:12], response.status_code))
            elif value in FAR_DAYS:
                if DAY_RANGE_MESSAGE not in response.context["adminform"].form.errors.get(
                        field.name, []):  # fmt: skip
                    problems.append((field.name, value, "no range named"))
            elif not (response.context["adminform"].form.errors.get(field.name)
                      or response.context["errors"]):  # fmt: skip
                problems.append((field.name, value[:12], "no error shown"))
    if obj is not None:
        obj.refresh_from_db()
    assert not problems
    assert (model._default_manager.count(), obj and model_to_dict(obj)) == before
    if not tried:
        pytest.skip("no field to craft")


def test_the_unchanged_submission_is_valid(client, snapshot, superuser):
    """The guard of the test above: its base submission saves, so a refusal is the value's."""
    from partners.models import MSO

    obj = MSO.objects.order_by("pk").first()
    client.force_login(superuser)
    page = client.get(_url(MSO, "change", obj.pk))
    response = client.post(_url(MSO, "change", obj.pk), _submission(page))
    assert response.status_code == 302, response.context["adminform"].form.errors


def test_every_change_list_answers_a_crafted_address_without_an_error(client, snapshot,
                                                                     superuser):  # fmt: skip
    client.force_login(superuser)
    client.raise_request_exception = False
    problems = []
    for model, _model_admin in _admins():
        dates = [f.name for f in model._meta.concrete_fields if isinstance(f, models.DateField)]
        for query in LIST_QUERIES:
            key, value = next(iter(query.items()))
            if "{date}" in key and not dates:
                continue
            params = {key.format(date=dates[0] if dates else ""): value}
            response = client.get(_url(model, "changelist"), params)
            if response.status_code not in (200, 302, 400):
                problems.append((model._meta.label, params, response.status_code))
    assert not problems


def test_every_bulk_action_on_ids_that_cannot_be_rows_is_refused(client, snapshot, superuser):
    client.force_login(superuser)
    client.raise_request_exception = False
    problems, tried = [], 0
    for model, model_admin in _admins():
        before = model._default_manager.count()
        for _function, action, _description in model_admin._get_base_actions():
            for selected in ("abc", "1.5", "9" * 30):
                tried += 1
                data = {"action": action, "_selected_action": [selected]}
                response = client.post(_url(model, "changelist"), data)
                if response.status_code != 400 or b"not a row of this list" not in (
                        response.content):  # fmt: skip
                    problems.append((model._meta.label, action, selected, response.status_code))
        assert model._default_manager.count() == before, model._meta.label
    assert tried > 50 and not problems


def test_the_autocomplete_with_a_nul_byte_is_a_400(client, snapshot, superuser):
    client.force_login(superuser)
    response = client.get("/admin/autocomplete/", {
        "term": "a\x00", "app_label": "partners", "model_name": "affiliation",
        "field_name": "practice"})  # fmt: skip
    assert response.status_code == 400


def _refusals(caplog):
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]


def test_a_change_form_given_back_logs_one_line_naming_the_fields_of_it_and_its_inlines(
        client, snapshot, superuser, caplog):  # fmt: skip
    from partners.models import MSO

    mso = MSO.objects.filter(affiliations__isnull=False).order_by("pk").first()
    url = _url(MSO, "change", mso.pk)
    client.force_login(superuser)
    page = client.get(url)
    affiliation = next(inline.formset for inline in page.context["inline_admin_formsets"]
                       if inline.formset.model.__name__ == "Affiliation").initial_forms[0]
    values = "Told us her jaw still hurts"
    caplog.clear()

    response = client.post(url, {**_submission(page), "founded_year": "99999",
                                 "values": values,
                                 affiliation["started_on"].html_name: "9999-12-31"})  # fmt: skip

    assert response.status_code == 200
    assert _refusals(caplog) == [
        f"refused POST {url} (user {superuser.pk}): form errors in fields 'founded_year', "
        f"'{affiliation['started_on'].html_name}'"]
    assert values not in caplog.text


def test_a_refused_list_address_is_one_line_with_the_user(client, snapshot, superuser,
                                                         caplog):  # fmt: skip
    client.force_login(superuser)
    url = reverse("admin:partners_surveyresponse_changelist")
    caplog.clear()
    response = client.get(url, {"responded_on__year": "99999999999999"})
    assert response.status_code == 400
    assert _refusals(caplog) == [f"refused GET {url} (user {superuser.pk}): not a value it "
                                 "can take in field 'responded_on__year'"]  # fmt: skip

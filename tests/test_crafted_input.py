"""Crafted input answers 4xx, never 500, and writes nothing (a first part of the crafted-input
table: NUL bytes in any query or form field, numbers past a column's range, far dates)."""

import pytest
from django.urls import reverse

from partners.models import MSO, ReferenceInterview
from scorecards.models import Report, ShortlistEntry

from .partners.test_interviews import form_data as interview_data

pytestmark = pytest.mark.django_db

NUL = "a\x00b"
HUGE = "9" * 5000


def _weights(snapshot, value):
    return {f"weight_{k}": value for k in snapshot.methodology.weights()}


CASES = [
    # (role, method, url name, data)
    ("surgeon", "post", "shortlist_add", lambda s: {"mso": NUL}),
    ("surgeon", "post", "priorities_save", lambda s: {**_weights(s, NUL), "m": ["x"]}),
    ("surgeon", "get", "directory", lambda s: {"state": NUL}),
    ("consultant", "get", "interview_list", lambda s: {"mso": NUL}),
    ("consultant", "get", "interview_create", lambda s: {"mso": NUL}),
    ("consultant", "post", "report_new", lambda s: {**_weights(s, "5"), "snapshot": HUGE,
                                                    "client_name": "x", "msos": ["a", "b"]}),
    ("consultant", "post", "report_new", lambda s: {**_weights(s, HUGE), "client_name": "x",
                                                    "weights_from": "own"}),
    ("consultant", "post", "report_new", lambda s: {**_weights(s, "١٢"), "client_name": NUL}),
]  # fmt: skip


@pytest.mark.parametrize(("role", "method", "name", "data"), CASES,
                         ids=[f"{c[2]}-{i}" for i, c in enumerate(CASES)])  # fmt: skip
def test_crafted_input_gets_a_4xx_or_the_form_back_and_writes_nothing(
        request, client, snapshot, role, method, name, data):  # fmt: skip
    client.raise_request_exception = False
    client.force_login(request.getfixturevalue(role))
    before = (ShortlistEntry.objects.count(), Report.objects.count(),
              ReferenceInterview.objects.count())  # fmt: skip

    response = getattr(client, method)(reverse(name), data(snapshot))

    assert response.status_code < 500
    assert response.status_code in (200, 302, 400, 404)
    assert (ShortlistEntry.objects.count(), Report.objects.count(),
            ReferenceInterview.objects.count()) == before  # fmt: skip


def test_a_nul_byte_is_refused_with_400_naming_nothing_stored(client, surgeon, snapshot, caplog):
    client.force_login(surgeon)
    response = client.get(reverse("directory"), {"focus": NUL})
    assert response.status_code == 400
    assert "NUL byte" in response.content.decode()
    assert any("NUL byte in field 'focus'" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("url", ["/login/", "/admin/login/"])
@pytest.mark.parametrize(("field", "message"), [("username", "at most 150 characters"),
                                                ("password", "at most 4,096 characters")])
def test_a_login_with_a_megabyte_field_gets_the_form_back(client, url, field, message):
    from axes.models import AccessAttempt

    client.raise_request_exception = False
    response = client.post(url, {"username": "someone", "password": "secret",
                                 field: "x" * (1 << 20)})  # fmt: skip
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not AccessAttempt.objects.exists()


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1949-12-31", "2101-01-01"])
def test_a_far_interview_date_gets_the_form_back_with_the_accepted_range(
        client, consultant, snapshot, day):  # fmt: skip
    client.force_login(consultant)
    mso = MSO.objects.order_by("pk").first()

    response = client.post(reverse("interview_create"), interview_data(mso, interviewed_on=day))

    assert response.status_code == 200
    assert response.context["form"].errors["interviewed_on"] == [
        "Enter a date from 1 January 1950 to 31 December 2100."]  # fmt: skip
    assert not ReferenceInterview.objects.filter(interviewed_on=day).exists()


PATIENT_TEXT = "Dr. Vale removed my wisdom teeth"  # what a field can hold; never in a log


def _two_slugs(snapshot):
    return list(snapshot.scorecards.values_list("mso__slug", flat=True)[:2])


def _refusals(caplog):
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]


FORM_CASES = [
    # (role, url name, data, htmx, the fields named)
    ("surgeon", "priorities_save",
     lambda s: {**_weights(s, "5"), "weight_patient_experience": PATIENT_TEXT,
                "m": ["a", "b"]}, True,
     "field 'weight_patient_experience'"),
    ("surgeon", "directory_priorities",
     lambda s: {**_weights(s, "5"), "weight_patient_experience": "-1" + PATIENT_TEXT}, True,
     "field 'weight_patient_experience'"),
    # Without htmx, the whole page comes back with the form, rather than a silent redirect.
    ("surgeon", "priorities_save",
     lambda s: {**_weights(s, "5"), "weight_patient_experience": "x", "m": _two_slugs(s)},
     False, "field 'weight_patient_experience'"),
    ("surgeon", "directory_priorities",
     lambda s: {**_weights(s, "5"), "weight_patient_experience": "-1"}, False,
     "field 'weight_patient_experience'"),
    ("consultant", "report_new",
     lambda s: {**_weights(s, "5"), "weight_patient_experience": "-5",
                "client_name": PATIENT_TEXT, "weights_from": "own"}, False,
     "'weight_patient_experience'"),
    ("consultant", "interview_create",
     lambda s: interview_data(MSO.objects.first(), interviewed_on="9999-12-31",
                              promised=PATIENT_TEXT, **{"ledger-0-outcome": "maybe"}), False,
     "fields 'interviewed_on', 'ledger-0-outcome'"),
]  # fmt: skip


@pytest.mark.parametrize(("role", "name", "data", "htmx", "named"), FORM_CASES,
                         ids=[c[1] for c in FORM_CASES])  # fmt: skip
def test_a_form_given_back_with_errors_logs_one_line_naming_its_fields_not_their_values(
        request, client, snapshot, caplog, role, name, data, htmx, named):  # fmt: skip
    user = request.getfixturevalue(role)
    client.force_login(user)
    headers = {"HX-Request": "true"} if htmx else {}
    caplog.clear()

    response = client.post(reverse(name), data(snapshot), headers=headers)

    assert response.status_code == 200
    assert response.context["priorities_form" if name == "directory_priorities" else "form"].errors
    (line,) = _refusals(caplog)
    assert line.startswith(f"refused POST {reverse(name)} (user {user.pk}): form errors in ")
    assert named in line
    assert PATIENT_TEXT not in caplog.text


def test_a_valid_form_logs_no_refusal(client, consultant, snapshot, caplog):
    client.force_login(consultant)
    caplog.clear()
    response = client.post(reverse("interview_create"), interview_data(MSO.objects.first()))
    assert response.status_code == 302
    assert not _refusals(caplog)


def test_a_refused_nul_byte_is_one_line_with_the_user(client, surgeon, snapshot, caplog):
    client.force_login(surgeon)
    caplog.clear()
    client.post(reverse("shortlist_add"), {"mso": "a\x00" + PATIENT_TEXT})
    assert _refusals(caplog) == [
        f"refused POST /shortlist/add (user {surgeon.pk}): NUL byte in field 'mso'"]


def test_priorities_with_errors_without_htmx_keep_the_way_back(client, surgeon, snapshot):
    client.force_login(surgeon)
    back = reverse("directory") + "?focus=single"
    response = client.post(reverse("directory_priorities"),
                           {**_weights(snapshot, "5"), "weight_patient_experience": "-1",
                            "next": back})  # fmt: skip
    assert response.status_code == 200
    assert f'name="next" value="{back.replace("&", "&amp;")}"' in response.content.decode()
    # The address the browser now shows, opened again, is the page it stands for.
    assert client.get(reverse("directory_priorities"))["Location"] == reverse("directory")
    compare = client.get(reverse("priorities_save"), {"m": ["a", "b"]})
    assert compare.status_code == 302 and compare["Location"] == reverse("compare") + "?m=a&m=b"

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

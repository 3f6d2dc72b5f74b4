"""Data admins upload a practices CSV in the admin, see a preview, then confirm."""

import io

import pytest
from django.urls import reverse

from partners.models import MSO, Affiliation, Practice

pytestmark = pytest.mark.django_db

URL = reverse("admin:partners_practice_import")
GOOD = (
    b"mso,practice_code,practice_name,city,state,affiliated_since\n"
    b"Larkspur Surgical Partners,P-1,Dayton Oral Surgery,Dayton,OH,2021-04-01\n"
    b"Larkspur Surgical Partners,P-2,Kettering Oral Surgery,Kettering,OH,3/15/2022\n"
)


def upload(client, data, name="practices.csv"):
    file = io.BytesIO(data)
    file.name = name
    return client.post(URL, {"file": file})


def counts():
    return MSO.objects.count(), Practice.objects.count(), Affiliation.objects.count()


def test_preview_shows_what_would_change_and_writes_nothing(client, data_admin):
    client.force_login(data_admin)
    response = upload(client, GOOD)
    assert response.status_code == 200
    preview = response.context["preview"]
    assert (preview.msos_created, preview.practices_created, preview.affiliations_created) == (
        1, 2, 2,
    )  # fmt: skip
    assert "Preview of practices.csv" in response.content.decode()
    assert counts() == (0, 0, 0)


def test_confirming_the_preview_imports_the_file(client, data_admin):
    client.force_login(data_admin)
    token = upload(client, GOOD).context["upload"]
    response = client.post(URL, {"upload": token, "file_name": "practices.csv"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:partners_practice_changelist")
    assert "Imported practices.csv: 1 MSOs created, 2 practices created" in (
        response.content.decode()
    )
    assert counts() == (1, 2, 2)
    # The staged file is gone: confirming twice cannot import twice.
    again = client.post(URL, {"upload": token, "file_name": "practices.csv"}, follow=True)
    assert "That upload has expired" in again.content.decode()
    assert counts() == (1, 2, 2)


def test_bad_file_lists_every_error_with_its_line(client, data_admin):
    client.force_login(data_admin)
    bad = GOOD + b"Larkspur Surgical Partners,P-3,Troy Oral Surgery,Troy,XX,2021-13-01\n"
    response = upload(client, bad)
    page = response.content.decode()
    assert "Refused practices.csv: nothing was imported." in page
    lines = [(e.line, e.message) for e in response.context["errors"]]
    assert (4, "state 'XX' is not a US state code (use two letters, such as TX)") in lines
    assert (4, "affiliated_since '2021-13-01' is not a date (use YYYY-MM-DD or M/D/YYYY)") in lines
    assert "upload" not in response.context
    assert counts() == (0, 0, 0)


def test_a_forged_upload_token_is_refused(client, data_admin):
    client.force_login(data_admin)
    response = client.post(URL, {"upload": "../../settings", "file_name": "x"}, follow=True)
    assert "That upload has expired" in response.content.decode()


def test_changelist_links_to_the_import(client, data_admin):
    client.force_login(data_admin)
    page = client.get(reverse("admin:partners_practice_changelist")).content.decode()
    assert URL in page


@pytest.mark.parametrize("role", ["surgeon", "consultant"])
def test_other_roles_cannot_import(client, request, role):
    client.force_login(request.getfixturevalue(role))
    response = upload(client, GOOD)
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    assert counts() == (0, 0, 0)


def test_staff_without_permission_gets_403(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("staff", is_staff=True))
    assert upload(client, GOOD).status_code == 403

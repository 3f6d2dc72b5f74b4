"""The roles page: data admins give and take back the Surgeon and Consultant roles, nothing
more; every change is in the audit trail."""

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from partners.roles import CONSULTANT, DATA_ADMIN, SURGEON

URL = "/admin/roles/"


def _post(client, person, role, action, **extra):
    return client.post(reverse("user_roles"), {"user": person.pk, "role": role, "action": action,
                                               **extra}, follow=True)  # fmt: skip


def _roles(person):
    return set(person.groups.values_list("name", flat=True))


@pytest.mark.django_db
def test_a_data_admin_gives_and_removes_the_surgeon_role_with_an_audit_entry(
    client, data_admin, outsider
):
    assert reverse("user_roles") == URL
    client.force_login(data_admin)
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_pk=str(outsider.pk)
    ).order_by("-timestamp", "-pk")
    before = entries.count()
    page = _post(client, outsider, SURGEON, "grant").content.decode()
    assert _roles(outsider) == {SURGEON}
    assert "The Surgeon role was given to outsider." in page
    assert entries.count() == before + 1
    added = entries.first()
    assert added.actor == data_admin
    assert added.changes["groups"]["objects"] == [SURGEON]
    assert added.changes["groups"]["operation"] == "add"

    page = _post(client, outsider, SURGEON, "remove").content.decode()
    assert _roles(outsider) == set()
    assert "The Surgeon role was removed from outsider." in page
    removed = entries.first()
    assert removed.changes["groups"]["operation"] == "delete" and removed.actor == data_admin

    assert (
        "Nothing changed: outsider does not have the Surgeon role."
        in _post(client, outsider, SURGEON, "remove").content.decode()
    )
    _post(client, outsider, CONSULTANT, "grant")
    assert _roles(outsider) == {CONSULTANT}


@pytest.mark.django_db
def test_data_admin_role_staff_flags_and_superusers_are_refused(client, data_admin, outsider):
    client.force_login(data_admin)
    page = _post(client, outsider, DATA_ADMIN, "grant", is_staff="on",
                 is_superuser="on").content.decode()  # fmt: skip
    assert "Only the Surgeon and Consultant roles are given here." in page
    outsider.refresh_from_db()
    assert _roles(outsider) == set() and not outsider.is_staff and not outsider.is_superuser
    # Nor can a data admin take the role away from another data admin.
    assert "Only the" in _post(client, data_admin, DATA_ADMIN, "remove").content.decode()
    assert _roles(data_admin) == {DATA_ADMIN}

    boss = User.objects.create_superuser("boss", password="x")
    page = _post(client, boss, SURGEON, "grant").content.decode()
    assert "changed by another superuser" in page and _roles(boss) == set()
    assert "Has every role" in client.get(URL).content.decode()
    assert client.post(URL, {"user": outsider.pk, "role": SURGEON,
                             "action": "delete"}).status_code == 400  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["surgeon", "consultant", "outsider"])
def test_only_data_admins_open_the_page(client, request, role, outsider):
    client.force_login(request.getfixturevalue(role))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"user": outsider.pk, "role": SURGEON,
                             "action": "grant"}).status_code == 403  # fmt: skip
    assert _roles(outsider) == set()


@pytest.mark.django_db
def test_search_and_pages_in_a_constant_number_of_queries(client, data_admin):
    client.force_login(data_admin)
    surgeons = Group.objects.get(name=SURGEON)
    for i in range(3):
        User.objects.create_user(f"user{i:02d}", email=f"u{i}@example.org").groups.add(surgeons)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for i in range(3, 40):
        User.objects.create_user(
            f"user{i:02d}", email=f"u{i}@example.org", first_name="Robin", last_name=f"Lee{i}"
        ).groups.add(surgeons)
    with CaptureQueriesContext(connection) as many:
        page = client.get(URL).content.decode()
    assert len(many) == len(few)
    assert "Page 1 of 2 (41 people)" in page and "user23" in page and "user24" not in page
    assert "user24" in client.get(URL, {"page": 2}).content.decode()
    found = client.get(URL, {"q": "u7@example"}).content.decode()
    assert "user07" in found and "user08" not in found
    assert "user39" in client.get(URL, {"q": "robin lee39"}).content.decode()
    assert "Nobody matches" in client.get(URL, {"q": "nobody-at-all"}).content.decode()
    # A change goes back to the page and search it was made from.
    response = client.post(
        URL,
        {
            "user": User.objects.get(username="user07").pk,
            "role": CONSULTANT,
            "action": "grant",
            "back": "q=u7%40example",
        },
    )
    assert response.url == f"{URL}?q=u7%40example"

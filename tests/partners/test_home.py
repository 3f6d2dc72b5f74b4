import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from .factories import affiliate, make_mso, make_practice

pytestmark = pytest.mark.django_db


def test_every_page_but_login_and_healthz_requires_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/"
    assert client.get(reverse("login")).status_code == 200


def test_home_lists_published_msos_with_active_practice_counts(client, surgeon):
    larkspur = make_mso(specialties="Oral and maxillofacial surgery")
    make_mso("Hidden Draft Partners", published=False)
    affiliate(make_practice("P-1"), larkspur)
    affiliate(make_practice("P-2"), larkspur, ended_on=datetime.date(2021, 1, 1))  # left
    affiliate(make_practice("P-3"), larkspur, started_on=datetime.date(2099, 1, 1))  # not yet
    client.force_login(surgeon)
    response = client.get(reverse("home"))
    page = response.content.decode()
    assert "Larkspur Surgical Partners" in page
    assert "Hidden Draft Partners" not in page
    assert [m.active_practices for m in response.context["msos"]] == [1]
    assert "Single specialty" in page and "Partnership with equity" in page


def test_home_empty_state_tells_what_to_do(client, surgeon, data_admin):
    client.force_login(surgeon)
    page = client.get(reverse("home")).content.decode()
    assert "Ask a data admin to publish MSO profiles" in page
    client.force_login(data_admin)
    page = client.get(reverse("home")).content.decode()
    assert "No MSO is published yet." in page
    assert reverse("admin:partners_mso_changelist") in page


def test_home_query_count_does_not_grow_with_the_number_of_msos(client, surgeon):
    client.force_login(surgeon)
    counts = []
    for n in (1, 20):
        for i in range(n):
            affiliate(make_practice(f"P-{n}-{i}"), make_mso(f"MSO {n}-{i}"))
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("home"))
        assert len(response.context["msos"]) == {1: 1, 20: 21}[n]
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]

import pytest
from django.db import OperationalError, connection
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_healthz_is_open_to_anonymous_and_reports_each_part(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_reports_a_broker_that_cannot_be_reached(client, settings, caplog):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "ok"
    # Anybody may call it: the failing part's name only; the details go to the log.
    assert body["broker"] == "error"
    assert "127.0.0.1" not in response.content.decode()
    assert "broker failed: OperationalError" in caplog.text and "127.0.0.1:1" in caplog.text


def test_healthz_reports_a_database_that_cannot_be_reached(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["database"] == "error"
    assert response.json()["broker"] == "ok"


def test_healthz_answers_only_get(client):
    assert client.post(reverse("healthz")).status_code == 405

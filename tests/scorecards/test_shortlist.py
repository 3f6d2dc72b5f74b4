"""The surgeon's shortlist: adding and removing MSOs, private notes, the due-diligence checklist."""

import pytest
from django.contrib.auth.models import Group, User
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from partners.roles import SURGEON
from scorecards.models import ChecklistAnswer, ShortlistEntry
from scorecards.shortlist import (
    BAD_STATUS,
    CHECKLIST,
    CHECKLIST_KEYS,
    checklist_answer_save,
    shortlist_add,
)
from tests.partners.factories import make_mso

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
EMPTY_STATE = "Add MSOs from the MSO list with “Add to shortlist”."


@pytest.fixture
def mso():
    return make_mso("Larkspur Surgical Partners")


@pytest.fixture
def entry(surgeon, mso):
    return shortlist_add(user=surgeon, mso=mso)[0]


@pytest.fixture
def other_surgeon():
    user = User.objects.create_user("othersurgeon", password="pw-othersurgeon")
    user.groups.add(Group.objects.get(name=SURGEON))
    return user


def write_urls(entry):
    return [
        reverse("shortlist_remove", args=[entry.pk]),
        reverse("shortlist_note", args=[entry.pk]),
        reverse("shortlist_checklist", args=[entry.pk, CHECKLIST_KEYS[0]]),
    ]


def test_the_checklist_asks_the_article_questions():
    assert len(CHECKLIST) == 10 and len(set(CHECKLIST_KEYS)) == 10
    text = " ".join(f"{item.question} {item.hint}" for item in CHECKLIST).lower()
    for topic in ["ownership model", "clinical autonomy", "several specialties", "marketing",
                  "revenue cycle", "payor contracting", "nps", "average of the practices",
                  "promise", "deliver", "trust", "same decision", "advice",
                  "clinical excellence", "accreditation"]:  # fmt: skip
        assert topic in text, topic


@pytest.mark.parametrize(
    "item, status", [("golf_membership", "answered"), ("accreditation", "done")]
)
def test_the_database_refuses_unknown_items_and_statuses(entry, item, status):
    with pytest.raises(IntegrityError), transaction.atomic():
        ChecklistAnswer.objects.create(entry=entry, item=item, status=status)


def test_empty_shortlist_says_how_to_add_msos(client, surgeon):
    client.force_login(surgeon)
    response = client.get(reverse("shortlist"))
    assert response.status_code == 200
    assert EMPTY_STATE in response.content.decode()


def test_surgeon_adds_an_mso_and_sees_it_with_its_checklist(client, surgeon, mso):
    client.force_login(surgeon)
    response = client.post(reverse("shortlist_add"), {"mso": mso.slug})
    assert response.status_code == 302 and response.url == reverse("shortlist")
    assert ShortlistEntry.objects.filter(user=surgeon, mso=mso).count() == 1
    page = client.get(reverse("shortlist")).content.decode()
    assert f'href="/msos/{mso.slug}/"' in page
    assert "0 of 10 answered" in page
    assert all(item.question in page for item in CHECKLIST)
    assert EMPTY_STATE not in page


def test_adding_twice_keeps_one_entry_and_its_note(client, surgeon, entry, mso):
    entry.note = "Call Dr. Vale."
    entry.save()
    client.force_login(surgeon)
    client.post(reverse("shortlist_add"), {"mso": mso.slug})
    assert list(ShortlistEntry.objects.values_list("note", flat=True)) == ["Call Dr. Vale."]


def test_adding_an_unknown_or_unpublished_mso_is_404(client, surgeon):
    hidden = make_mso("Hidden Partners", published=False)
    client.force_login(surgeon)
    assert client.post(reverse("shortlist_add"), {"mso": "nope"}).status_code == 404
    assert client.post(reverse("shortlist_add"), {"mso": hidden.slug}).status_code == 404
    assert not ShortlistEntry.objects.exists()


def test_add_redirects_back_to_a_local_next(client, surgeon, mso):
    client.force_login(surgeon)
    response = client.post(reverse("shortlist_add"), {"mso": mso.slug, "next": "/?page=2"})
    assert response.status_code == 302 and response.url == "/?page=2"


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", "https:/x"])
def test_add_refuses_an_external_next(client, surgeon, mso, next_url):
    client.force_login(surgeon)
    response = client.post(reverse("shortlist_add"), {"mso": mso.slug, "next": next_url})
    assert response.status_code == 302 and response.url == reverse("shortlist")


def test_surgeon_removes_an_entry_with_its_answers(client, surgeon, entry):
    checklist_answer_save(entry=entry, item="partner_trust", status="answered", note="Yes.")
    client.force_login(surgeon)
    response = client.post(reverse("shortlist_remove", args=[entry.pk]))
    assert response.status_code == 302 and response.url == reverse("shortlist")
    assert not ShortlistEntry.objects.exists() and not ChecklistAnswer.objects.exists()


def test_htmx_remove_returns_the_list_with_the_empty_state(client, surgeon, entry):
    client.force_login(surgeon)
    response = client.post(reverse("shortlist_remove", args=[entry.pk]), **HTMX)
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page
    assert 'id="shortlist"' in page and EMPTY_STATE in page
    assert "Removed Larkspur Surgical Partners from your shortlist." in page


def test_surgeon_saves_a_note(client, surgeon, entry):
    client.force_login(surgeon)
    url = reverse("shortlist_note", args=[entry.pk])
    response = client.post(url, {"note": " Ask about CBCT. "})
    assert response.status_code == 302
    assert response.url == f"{reverse('shortlist')}#entry-{entry.pk}"
    entry.refresh_from_db()
    assert entry.note == "Ask about CBCT."
    assert "Ask about CBCT." in client.get(reverse("shortlist")).content.decode()


def test_htmx_note_save_returns_the_note_form(client, surgeon, entry):
    client.force_login(surgeon)
    response = client.post(reverse("shortlist_note", args=[entry.pk]), {"note": "Ask."}, **HTMX)
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page
    assert f'id="note-{entry.pk}"' in page and "Note saved." in page and ">Ask.</textarea>" in page


def test_surgeon_answers_a_checklist_item(client, surgeon, entry):
    client.force_login(surgeon)
    url = reverse("shortlist_checklist", args=[entry.pk, "patient_nps"])
    response = client.post(url, {"status": "answered", "note": "NPS 71, n=412."})
    assert response.status_code == 302
    assert response.url == f"{reverse('shortlist')}#check-{entry.pk}-patient_nps"
    answer = entry.answers.get()
    assert (answer.item, answer.status) == ("patient_nps", "answered")
    assert answer.note == "NPS 71, n=412."
    client.post(url, {"status": "open", "note": "Ask for the per-practice figures."})
    assert list(entry.answers.values_list("status", "note")) == [
        ("open", "Ask for the per-practice figures.")
    ]
    assert "0 of 10 answered" in client.get(reverse("shortlist")).content.decode()


def test_htmx_checklist_save_returns_the_item_and_the_progress(client, surgeon, entry):
    checklist_answer_save(entry=entry, item="partner_trust", status="answered", note="")
    client.force_login(surgeon)
    url = reverse("shortlist_checklist", args=[entry.pk, "accreditation"])
    response = client.post(url, {"status": "answered", "note": "AAAHC to 2027."}, **HTMX)
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page
    assert page.count("<li") == 1 and f'id="check-{entry.pk}-accreditation"' in page
    assert ">AAAHC to 2027.</textarea>" in page and "Saved: answered." in page
    assert f'id="progress-{entry.pk}" hx-swap-oob="true"' in page
    assert "2 of 10 answered" in page


def test_progress_counts_answered_items(client, surgeon, entry):
    for key in CHECKLIST_KEYS[:4]:
        checklist_answer_save(entry=entry, item=key, status="answered", note="")
    checklist_answer_save(entry=entry, item=CHECKLIST_KEYS[4], status="open", note="Pending.")
    client.force_login(surgeon)
    assert "4 of 10 answered" in client.get(reverse("shortlist")).content.decode()


def test_unknown_checklist_item_is_404(client, surgeon, entry):
    client.force_login(surgeon)
    url = reverse("shortlist_checklist", args=[entry.pk, "golf_membership"])
    assert client.post(url, {"status": "answered", "note": ""}).status_code == 404
    assert not ChecklistAnswer.objects.exists()


@pytest.mark.parametrize("status", ["done", ""])
def test_bad_status_is_400(client, surgeon, entry, status):
    client.force_login(surgeon)
    url = reverse("shortlist_checklist", args=[entry.pk, "partner_trust"])
    response = client.post(url, {"status": status, "note": ""})
    assert response.status_code == 400
    assert response.content.decode() == BAD_STATUS
    assert not ChecklistAnswer.objects.exists()


def test_another_surgeon_does_not_see_the_entry(client, entry, other_surgeon):
    entry.note = "Private: they lowballed me."
    entry.save()
    client.force_login(other_surgeon)
    page = client.get(reverse("shortlist")).content.decode()
    assert "Private: they lowballed me." not in page and EMPTY_STATE in page


@pytest.mark.parametrize("which", range(3), ids=["remove", "note", "checklist"])
def test_another_surgeons_entry_is_404_for_every_write(client, entry, other_surgeon, which):
    client.force_login(other_surgeon)
    data = {"note": "Hijacked.", "status": "answered"}
    assert client.post(write_urls(entry)[which], data).status_code == 404
    entry.refresh_from_db()
    assert entry.note == "" and not entry.answers.exists()


@pytest.mark.parametrize("role", ["consultant", "data_admin", "outsider"])
def test_other_roles_get_403(client, request, entry, mso, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("shortlist")).status_code == 403
    assert client.post(reverse("shortlist_add"), {"mso": mso.slug}).status_code == 403
    for url in write_urls(entry):
        assert client.post(url, {"note": "x", "status": "answered"}).status_code == 403
    assert ShortlistEntry.objects.get() == entry and entry.answers.count() == 0


def test_superuser_may_use_the_shortlist(client, mso):
    admin = User.objects.create_superuser("root", password="pw-root")
    client.force_login(admin)
    client.post(reverse("shortlist_add"), {"mso": mso.slug})
    assert client.get(reverse("shortlist")).status_code == 200
    assert ShortlistEntry.objects.filter(user=admin).exists()


def test_anonymous_is_sent_to_log_in(client, entry, mso):
    login = reverse("login")
    urls = [reverse("shortlist"), reverse("shortlist_add"), *write_urls(entry)]
    for url in urls:
        response = client.get(url) if url == reverse("shortlist") else client.post(url)
        assert response.status_code == 302 and response.url.startswith(f"{login}?next="), url
    assert ShortlistEntry.objects.count() == 1


@pytest.mark.parametrize("url_name", ["shortlist_add", "shortlist_note"])
def test_writes_refuse_get(client, surgeon, entry, url_name):
    client.force_login(surgeon)
    args = [] if url_name == "shortlist_add" else [entry.pk]
    assert client.get(reverse(url_name, args=args)).status_code == 405


def _list_page_queries(client, surgeon, count):
    ShortlistEntry.objects.all().delete()
    for i in range(count):
        e = shortlist_add(user=surgeon, mso=make_mso(f"MSO {count}-{i}"))[0]
        checklist_answer_save(entry=e, item="partner_trust", status="answered", note=f"n{i}")
        checklist_answer_save(entry=e, item="accreditation", status="open", note="")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("shortlist"))
    assert response.status_code == 200
    assert response.content.decode().count('class="shortlist-entry"') == count
    return len(queries)


def test_the_list_page_issues_a_fixed_number_of_queries(client, surgeon):
    client.force_login(surgeon)
    with_one = _list_page_queries(client, surgeon, 1)
    with_ten = _list_page_queries(client, surgeon, 10)
    assert with_one == with_ten


def test_the_shortlist_shows_where_the_surgeon_is_and_its_figures(client, surgeon, snapshot):
    from django.urls import reverse

    from scorecards.models import MsoScorecard, ShortlistEntry

    cards = list(MsoScorecard.objects.filter(snapshot=snapshot, rank__isnull=False)
                 .select_related("mso").order_by("rank")[:2])  # fmt: skip
    client.force_login(surgeon)
    for card in cards:
        client.post(reverse("shortlist_add"), {"mso": card.mso.slug})
    entry = ShortlistEntry.objects.get(user=surgeon, mso=cards[0].mso)

    directory = client.get(reverse("directory")).content.decode()
    profile = client.get(reverse("mso_profile", args=[cards[0].mso.slug])).content.decode()
    for page in (directory, profile):
        assert f'action="{reverse("shortlist_remove", args=[entry.pk])}"' in page
        assert "On your <a" in page
    shortlist = client.get(reverse("shortlist")).content.decode()
    assert f'{cards[0].total:.0f}</strong> · rank {cards[0].rank}' in shortlist
    assert f'<strong>{cards[0].document["nps"]["nps"]:.0f}</strong>' in shortlist
    assert "Compare these" in shortlist and f"m={cards[1].mso.slug}" in shortlist

    back = client.post(reverse("shortlist_remove", args=[entry.pk]),
                       {"next": reverse("mso_profile", args=[cards[0].mso.slug])})
    assert back["Location"] == reverse("mso_profile", args=[cards[0].mso.slug])
    assert not ShortlistEntry.objects.filter(pk=entry.pk).exists()


def test_the_checklist_fills_in_what_the_scorecard_knows_and_leaves_the_answer(
        client, surgeon, snapshot):  # fmt: skip
    from django.urls import reverse

    from scorecards.models import MsoScorecard, ShortlistEntry

    card = MsoScorecard.objects.filter(snapshot=snapshot, rank=1).select_related("mso").get()
    client.force_login(surgeon)
    client.post(reverse("shortlist_add"), {"mso": card.mso.slug})
    entry = ShortlistEntry.objects.get(user=surgeon)
    nps = card.document["nps"]

    page = client.get(reverse("shortlist")).content.decode()

    known = page.split(f'id="check-{entry.pk}-patient_nps-known">')[1].split("</p>")[0]
    assert (f"Pooled patient NPS {round(nps['nps'])} (95% interval {round(nps['ci_low'])} to "
            f"{round(nps['ci_high'])}, n={nps['n']:,})") in known  # fmt: skip
    assert f"/msos/{card.mso.slug}/#nps" in known
    excellence = card.document["criteria"]["clinical_excellence"]
    assert (f"{round(excellence['value'])}% of its {excellence['n']:,} active practices hold a "
            "current accreditation") in page  # fmt: skip
    assert not entry.answers.exists()  # the surgeon's answer stays theirs to give

    saved = client.post(reverse("shortlist_checklist", args=[entry.pk, "patient_nps"]),
                        {"status": "answered", "note": "Asked for the raw counts."},
                        headers={"HX-Request": "true"}).content.decode()  # fmt: skip
    assert "Pooled patient NPS" in saved  # the figure stays beside the saved answer

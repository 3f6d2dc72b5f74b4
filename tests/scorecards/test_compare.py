"""Compare 2 to 5 MSOs with the surgeon's own priorities."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from scorecards.cache import forget as snapshot_cache_forget
from scorecards.models import MsoScorecard, SurgeonPriorities

pytestmark = pytest.mark.django_db
AS_OF = datetime.date(2026, 6, 1)


def ranked_slugs(snapshot, count=3):
    cards = MsoScorecard.objects.filter(snapshot=snapshot, rank__isnull=False).order_by("rank")
    return [c.document["slug"] for c in cards[:count]]


def compare_url(slugs):
    return reverse("compare") + "?" + "&".join(f"m={s}" for s in slugs)


def weights_post(snapshot, slugs, **weights):
    data = {f"weight_{k}": weights.get(k, 0) for k in snapshot.methodology.weights()}
    return {**data, "m": slugs}


def ranks_shown(page):
    return [int(r) for r in re.findall(r"· rank (\d+)", page.content.decode())]


def test_three_msos_side_by_side_with_the_methodologys_ranks(client, surgeon, snapshot):
    client.force_login(surgeon)
    slugs = ranked_slugs(snapshot)
    page = client.get(compare_url(slugs))
    assert page.status_code == 200
    ranks = {c.document["slug"]: c.rank for c in MsoScorecard.objects.filter(snapshot=snapshot)}
    assert ranks_shown(page) == [ranks[s] for s in slugs]
    text = page.content.decode()
    assert "(the methodology's weights)" in text and text.count("★") >= 3


def test_a_weight_change_reorders_and_is_saved(client, surgeon, snapshot):
    client.force_login(surgeon)
    slugs = ranked_slugs(snapshot, 5)
    data = weights_post(snapshot, slugs, support_breadth=100)
    page = client.post(reverse("priorities_save"), data, headers={"HX-Request": "true"})
    assert page.content.decode().lstrip().startswith('<div id="workspace"')
    cards = {c.document["slug"]: c.document for c in MsoScorecard.objects.filter(
        snapshot=snapshot)}  # fmt: skip
    breadth = [cards[s]["criteria"]["support_breadth"]["score"] for s in slugs]
    shown = ranks_shown(page)
    # Ranked by support breadth alone now: a higher breadth never has a worse rank.
    for a in range(len(slugs)):
        for b in range(len(slugs)):
            if breadth[a] > breadth[b]:
                assert shown[a] < shown[b]
    assert SurgeonPriorities.objects.get(user=surgeon).weights["support_breadth"] == 100
    again = client.get(compare_url(slugs))
    assert ranks_shown(again) == shown and "(your own weights, saved)" in again.content.decode()


def test_a_must_have_flags_and_reset_restores(client, surgeon, snapshot):
    client.force_login(surgeon)
    slugs = ranked_slugs(snapshot)
    data = {**weights_post(snapshot, slugs, **snapshot.methodology.weights()), "min_nps": 100}
    page = client.post(reverse("priorities_save"), data, follow=True)
    assert page.content.decode().count("Fails your must-haves: patient NPS is not at least 100") \
        == len(slugs)
    assert ranks_shown(page) == []
    client.post(reverse("priorities_save"), {"reset": "1", "m": slugs})
    assert not SurgeonPriorities.objects.filter(user=surgeon).exists()
    assert len(ranks_shown(client.get(compare_url(slugs)))) == len(slugs)


def test_all_weights_zero_is_refused_with_a_message(client, surgeon, snapshot):
    client.force_login(surgeon)
    slugs = ranked_slugs(snapshot)
    page = client.post(reverse("priorities_save"), weights_post(snapshot, slugs),
                       headers={"HX-Request": "true"})  # fmt: skip
    assert "Give at least one criterion a weight above 0." in page.content.decode()
    assert not SurgeonPriorities.objects.exists()


def test_fewer_than_two_or_more_than_five(client, surgeon, snapshot):
    client.force_login(surgeon)
    one = client.get(compare_url(ranked_slugs(snapshot, 1))).content.decode()
    assert "Pick two to 5 MSOs to compare." in one
    slugs = [c.document["slug"] for c in MsoScorecard.objects.filter(snapshot=snapshot)][:5]
    assert len(slugs) == 5
    six = client.get(compare_url([*slugs, "one-more"])).content.decode()
    assert "the first 5 are shown" in six
    assert len(re.findall(r'<th scope="col"><a href="/msos/', six)) == 5


def test_the_query_count_does_not_depend_on_how_many_are_compared(client, surgeon, snapshot):
    client.force_login(surgeon)
    counts = []
    for n in (2, 5):
        slugs = [c.document["slug"] for c in MsoScorecard.objects.filter(snapshot=snapshot)][:n]
        snapshot_cache_forget()  # each as the first request of a process
        with CaptureQueriesContext(connection) as queries:
            client.get(compare_url(slugs))
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 12


def test_outsiders_may_not_compare(client, outsider, snapshot):
    client.force_login(outsider)
    assert client.get(compare_url(ranked_slugs(snapshot))).status_code == 403
    assert client.post(reverse("priorities_save"), {"reset": "1"}).status_code == 403


def test_the_directory_ranks_with_the_saved_priorities_and_flags_must_haves(client, surgeon,
                                                                            snapshot):  # fmt: skip
    client.force_login(surgeon)
    weights = {k: 0 for k in snapshot.methodology.weights()} | {"support_breadth": 100}
    SurgeonPriorities.objects.create(user=surgeon, weights=weights,
                                     must_haves={"single_specialty_oms": True})  # fmt: skip
    page = client.get(reverse("directory")).content.decode()
    assert "Totals and ranks use <strong>your own priorities</strong>" in page
    cards = {c.document["slug"]: c for c in MsoScorecard.objects.filter(snapshot=snapshot)
             .select_related("mso")}  # fmt: skip
    listed = re.findall(r'<h2><a href="/msos/([^/]+)/">', page)
    single = [s for s in listed if cards[s].mso.specialty_focus == "single"]
    breadth = [cards[s].document["criteria"]["support_breadth"]["score"] for s in single]
    assert breadth == sorted(breadth, reverse=True)  # ranked by support breadth alone
    multi = [s for s in listed if cards[s].mso.specialty_focus == "multi"]
    assert multi and page.count("Fails your must-haves: is not single-specialty OMS") == len(multi)


def directory_ranks(page):
    """{slug: rank} as the directory lists them."""
    text = page.content.decode()
    return {slug: int(rank) for slug, rank in re.findall(
        r'<h2><a href="/msos/([^/]+)/">.*?Rank <strong>(\d+)</strong>', text, re.S)}  # fmt: skip


def test_the_directory_changes_the_weights_at_once_keeps_its_filters_and_saves_them(
        client, surgeon, snapshot):
    client.force_login(surgeon)
    data = {**weights_post(snapshot, [], support_breadth=100), "sort": "total", "page": "1"}
    data.pop("m")
    page = client.post(reverse("directory_priorities"), {**data, "focus": "single"},
                       headers={"HX-Request": "true"})  # fmt: skip
    assert page.content.decode().lstrip().startswith('<div id="directory-body"')
    cards = {c.document["slug"]: c.document for c in MsoScorecard.objects.filter(
        snapshot=snapshot)}  # fmt: skip
    ranks = directory_ranks(page)
    assert ranks and all(cards[s]["facts"]["specialty_focus"] == "single" for s in ranks)
    breadth = {s: cards[s]["criteria"]["support_breadth"]["score"] for s in ranks}
    for a in ranks:
        for b in ranks:
            if breadth[a] > breadth[b]:
                assert ranks[a] < ranks[b]
    assert "your own priorities" in page.content.decode()
    assert SurgeonPriorities.objects.get(user=surgeon).weights["support_breadth"] == 100
    # The next visit starts from them; reset gives the methodology's ranking back.
    assert directory_ranks(client.get(reverse("directory"), {"focus": "single"})) == ranks
    reset = client.post(reverse("directory_priorities"), {"reset": "1", "focus": "single"},
                        headers={"HX-Request": "true"})  # fmt: skip
    published = {s: d["rank"] for s, d in cards.items() if d["rank"] is not None}
    assert directory_ranks(reset) == {s: published[s] for s in directory_ranks(reset)}
    assert not SurgeonPriorities.objects.filter(user=surgeon).exists()


def test_without_javascript_the_directory_priorities_go_back_to_the_same_list(
        client, surgeon, snapshot):
    client.force_login(surgeon)
    data = weights_post(snapshot, [], **snapshot.methodology.weights())
    data.pop("m")
    back = client.post(reverse("directory_priorities"),
                       {**data, "min_nps": 100, "next": "/msos/?focus=single"})  # fmt: skip
    assert back.status_code == 302 and back.url == "/msos/?focus=single"
    page = client.get(back.url)
    assert "Fails your must-haves: patient NPS is not at least 100" in page.content.decode()
    elsewhere = client.post(reverse("directory_priorities"),
                            {**data, "next": "https://example.com/"})  # fmt: skip
    assert elsewhere.url == reverse("directory")


def test_the_surgeons_pages_speak_plainly(client, surgeon, snapshot):
    client.force_login(surgeon)
    slugs = ranked_slugs(snapshot)
    pages = [client.get(compare_url(slugs)).content.decode(),
             client.get(reverse("mso_profile", args=[slugs[0]])).content.decode()]
    for text in pages:
        for jargon in ("(NPS + 100) / 2", "re-weightings", "|z|", "1.96", "mapped to 0 to 100"):
            assert jargon not in text, jargon
    assert "How many of its surgeon partners would make the same decision again" in pages[0]
    assert "of tries when every weight changes by up to half" in pages[1]

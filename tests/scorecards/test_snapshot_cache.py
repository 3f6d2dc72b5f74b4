"""What the surgeon's pages compute from a snapshot is kept (scorecards.cache): a page read from
the cache is the page computed afresh, a new snapshot is never answered with an older one's
figures, surgeons with other priorities get their own, and a warm directory costs few queries."""

import datetime
import re

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from partners.models import MSO
from scorecards import cache
from scorecards.models import MsoScorecard
from scorecards.services import scorecard_compute
from scorecards.standings import surgeon_priorities_save
from tests.conftest import SURGEON, _user

pytestmark = pytest.mark.django_db
AS_OF = datetime.date(2026, 6, 1)


def page_text(response):
    """The page without its CSRF tokens, which differ on every response, and with its charts'
    ids (random, drawn with each chart) numbered in order."""
    assert response.status_code == 200
    text = re.sub(r'(csrfmiddlewaretoken" value=|csrf_token": |X-CSRFToken": )"[^"]*"', "",
                  response.content.decode())  # fmt: skip
    ids = {}
    return re.sub(r"chart-[0-9a-f]{8}", lambda m: f"chart-{ids.setdefault(m[0], len(ids))}", text)


def listed(response):
    return re.findall(r'<h2><a href="/msos/([^/]+)/">', response.content.decode())


def largest(snapshot, count):
    cards = MsoScorecard.objects.filter(snapshot=snapshot).order_by("rank", "mso__slug")
    return [c.mso.slug for c in cards[:count]]


def surgeon_pages(snapshot):
    slugs = largest(snapshot, 3)
    return [reverse("directory"), reverse("directory") + "?focus=single&sort=nps",
            reverse("mso_profile", args=[slugs[0]]),
            reverse("compare") + "?" + "&".join(f"m={s}" for s in slugs)]  # fmt: skip


def first_weights_only(snapshot):
    keys = list(snapshot.methodology.weights())
    return {k: 100 if k == keys[0] else 0 for k in keys}


def test_a_page_from_the_cache_is_the_page_computed_afresh(client, surgeon, snapshot):
    client.force_login(surgeon)
    surgeon_priorities_save(user=surgeon, weights=first_weights_only(snapshot), must_haves={})
    for url in surgeon_pages(snapshot):
        cache.forget()
        cold = page_text(client.get(url))
        warm = page_text(client.get(url))
        cache.forget(shared=False)  # another process: read from the shared cache
        shared = page_text(client.get(url))
        assert warm == cold == shared, url


def test_the_weight_change_from_the_cache_is_the_one_computed_afresh(client, surgeon, snapshot):
    client.force_login(surgeon)
    slugs = largest(snapshot, 5)
    data = {f"weight_{k}": w for k, w in first_weights_only(snapshot).items()} | {"m": slugs}
    answers = []
    for _ in range(2):
        cache.forget()
        answers.append(page_text(client.post(reverse("priorities_save"), data,
                                             headers={"HX-Request": "true"})))  # fmt: skip
        answers.append(page_text(client.post(reverse("priorities_save"), data,
                                             headers={"HX-Request": "true"})))  # fmt: skip
    assert len(set(answers)) == 1 and "Total score with your priorities" in answers[0]


def test_a_new_snapshot_is_never_answered_from_an_older_ones_entries(client, surgeon, snapshot):
    client.force_login(surgeon)
    first = listed(client.get(reverse("directory")))
    profile = reverse("mso_profile", args=[first[0]])
    assert client.get(profile).status_code == 200
    mso = MSO.objects.get(slug=first[0])
    mso.published = False
    mso.save()
    scorecard_compute(as_of=AS_OF + datetime.timedelta(days=1))
    assert listed(client.get(reverse("directory"))) == first[1:]
    assert client.get(profile).status_code == 404


def test_surgeons_with_other_priorities_get_their_own_and_equal_ones_share(client, snapshot):
    one, two, three = (_user(name, SURGEON) for name in ("one", "two", "three"))
    keys = list(snapshot.methodology.weights())
    surgeon_priorities_save(user=one, weights={k: 100 if k == keys[0] else 0 for k in keys},
                            must_haves={})  # fmt: skip
    surgeon_priorities_save(user=two, weights={k: 100 if k == keys[1] else 0 for k in keys},
                            must_haves={})  # fmt: skip
    surgeon_priorities_save(user=three, weights={k: 100 if k == keys[0] else 0 for k in keys},
                            must_haves={})  # fmt: skip
    pages = {}
    for user in (one, two, three):
        client.force_login(user)
        pages[user.username] = listed(client.get(reverse("directory")))
    assert pages["one"] != pages["two"]
    assert pages["one"] == pages["three"]
    # Three surgeons, two sets of priorities: two directories kept, not three.
    entries = [key for key in cache._kept if ":directory:" in key]
    assert len(entries) == 2


def test_a_warm_directory_costs_a_few_queries(client, surgeon, snapshot):
    client.force_login(surgeon)
    surgeon_priorities_save(user=surgeon, weights=first_weights_only(snapshot), must_haves={})
    client.get(reverse("directory"))
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("directory"))
    # Session, user, roles, latest snapshot, the surgeon's priorities, the shortlist: nothing
    # read for the MSOs, the methodology or the benchmarks, which the snapshot holds.
    assert len(queries) <= 6, [q["sql"] for q in queries]
    assert not [q for q in queries if "scorecards_msoscorecard" in q["sql"]]


@pytest.mark.skipif(not settings.CACHE_URL, reason="needs REDIS_URL (or CACHE_URL)")
def test_with_redis_configured_the_entries_are_in_redis(client, surgeon, snapshot):
    client.force_login(surgeon)
    client.get(reverse("directory"))
    server = redis.Redis.from_url(settings.CACHE_URL)
    keys = server.keys("mso_eval.snapshots:*")
    names = {key.decode().split(":")[3] for key in keys}
    assert {"rows", "directory", "directory_grid"} <= names
    assert all(f":{snapshot.pk}:" in key.decode() for key in keys)
    # Forgetting them leaves the rest of the database (the broker's queues) alone.
    server.set("test-not-the-cache", "kept")
    try:
        cache.forget()
        assert server.keys("mso_eval.snapshots:*") == []
        assert server.get("test-not-the-cache") == b"kept"
    finally:
        server.delete("test-not-the-cache")


def _on_shortlist(response):
    return re.findall(r'aria-label="Remove ([^"]+) from your shortlist"', response.content.decode())


def test_surgeons_share_the_rendered_rows_and_each_sees_their_own_shortlist(client, snapshot):
    from scorecards.models import ShortlistEntry

    first, second = _user("first", SURGEON), _user("second", SURGEON)
    mso = MSO.objects.get(slug=largest(snapshot, 1)[0])
    ShortlistEntry.objects.create(user=first, mso=mso)
    pages = {}
    for user in (first, second, first):
        client.force_login(user)
        pages.setdefault(user.username, []).append(client.get(reverse("directory")))
    assert _on_shortlist(pages["first"][0]) == _on_shortlist(pages["first"][1]) == [mso.name]
    assert _on_shortlist(pages["second"][0]) == []
    assert f'name="mso" value="{mso.slug}"' in pages["second"][0].content.decode()
    assert len([key for key in cache._kept if ":fragment:directory_rows:" in key]) == 1


def test_what_is_kept_of_a_page_holds_no_token_and_nothing_of_the_surgeon(client, snapshot):
    from scorecards.models import ShortlistEntry

    surgeon = _user("dr-zqx-keeper", SURGEON)
    ShortlistEntry.objects.create(user=surgeon, mso=MSO.objects.get(slug=largest(snapshot, 1)[0]))
    client.force_login(surgeon)
    page = client.get(reverse("directory"))
    token = re.search(r'csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    fragments = [value for key, value in cache._kept.items() if ":fragment:" in key]
    assert {key.split(":")[2] for key in cache._kept if ":fragment:" in key} == {
        "directory_filters", "directory_priorities", "directory_rows"}  # fmt: skip
    kept = repr(fragments)
    assert fragments and "csrfmiddlewaretoken" not in kept and token not in kept
    assert surgeon.username not in kept and "On your" not in kept
    rows = [value for key, value in cache._kept.items() if ":fragment:directory_rows:" in key]
    parts, holes = rows[0]
    assert len(holes) == len(listed(page)) == len(parts) - 1


def test_a_button_of_a_page_from_the_cache_posts_with_that_pages_token(snapshot):
    from django.test import Client

    from scorecards.models import ShortlistEntry

    for username in ("warms-the-cache", "posts"):
        user = _user(username, SURGEON)
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(user)
        page = browser.get(reverse("directory")).content.decode()
    form = re.search(r'<form method="post" action="/shortlist/add" class="inline">(.*?)</form>',
                     page, re.S)[1]  # fmt: skip
    data = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
    assert browser.post(reverse("shortlist_add"), data).status_code == 302
    assert ShortlistEntry.objects.get(user=user).mso.slug == data["mso"]


def test_a_consultant_after_a_surgeon_gets_no_shortlist_buttons(client, surgeon, consultant,
                                                                snapshot):  # fmt: skip
    client.force_login(surgeon)
    assert "Add to shortlist" in client.get(reverse("directory")).content.decode()
    client.force_login(consultant)
    page = client.get(reverse("directory")).content.decode()
    assert listed_slugs(page) and "Add to shortlist" not in page


def listed_slugs(text):
    return re.findall(r'<h2><a href="/msos/([^/]+)/">', text)


def test_a_profile_kept_rendered_shows_the_msos_facts_as_written_now(client, surgeon, snapshot):
    slug = largest(snapshot, 1)[0]
    client.force_login(surgeon)
    url = reverse("mso_profile", args=[slug])
    client.get(url)
    assert any(":fragment:profile_body:" in key for key in cache._kept)
    # An edit of the facts before the next snapshot is shown at once, as it was uncached.
    MSO.objects.filter(slug=slug).update(website="https://zqx-edited.example")
    assert "https://zqx-edited.example" in client.get(url).content.decode()

"""The MSO directory and profiles: filters, sorting, permissions, query counts, and figures
equal to the snapshot's."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from partners.models import MSO
from scorecards.cache import forget as snapshot_cache_forget
from scorecards.models import MsoScorecard
from scorecards.services import scorecard_compute

pytestmark = pytest.mark.django_db
AS_OF = datetime.date(2026, 6, 1)


def cards(snapshot):
    return {c.mso.slug: c.document for c in MsoScorecard.objects.filter(snapshot=snapshot)
            .select_related("mso")}  # fmt: skip


def listed(page):
    """The slugs of the MSOs listed, in order."""
    return re.findall(r'<h2><a href="/msos/([^/]+)/">', page.content.decode())


def test_every_published_mso_is_listed_by_total(client, surgeon, snapshot):
    client.force_login(surgeon)
    page = client.get(reverse("directory"))
    assert page.status_code == 200
    documents = cards(snapshot)
    ranked = sorted((d for d in documents.values() if d["total"] is not None),
                    key=lambda d: (-d["total"], d["name"]))  # fmt: skip
    unranked = sorted(d["name"] for d in documents.values() if d["total"] is None)
    assert listed(page)[: len(ranked)] == [d["slug"] for d in ranked]
    assert len(listed(page)) == len(documents) == MSO.objects.filter(published=True).count()
    text = page.content.decode()
    for d in ranked:
        assert f'{d["nps"]["nps"]:.0f}' in text
    assert unranked and "Unranked: evidence for" in text


def test_filters_narrow_the_list_and_say_what_was_left_out(client, surgeon, snapshot):
    client.force_login(surgeon)
    documents = cards(snapshot)
    facts = {m.slug: m for m in MSO.objects.filter(published=True)}
    page = client.get(reverse("directory"), {"focus": "single"})
    assert set(listed(page)) == {s for s, m in facts.items() if m.specialty_focus == "single"}
    page = client.get(reverse("directory"), {"min_nps": 50, "sort": "nps"})
    expected = sorted((s for s, d in documents.items()
                       if d["nps"]["status"] == "ok" and d["nps"]["nps"] >= 50),
                      key=lambda s: -documents[s]["nps"]["nps"])  # fmt: skip
    assert listed(page) == expected
    insufficient = sum(1 for d in documents.values() if d["nps"]["status"] != "ok")
    if insufficient:
        assert f"{insufficient} left out for lack of evidence" in page.content.decode()


def test_sort_by_name_and_a_bad_filter_value_is_ignored_with_a_message(client, surgeon,
                                                                          snapshot):  # fmt: skip
    client.force_login(surgeon)
    page = client.get(reverse("directory"), {"sort": "name", "min_nps": "lots"})
    names = [d["name"] for d in cards(snapshot).values()]
    slugs = {d["name"]: s for s, d in cards(snapshot).items()}
    assert listed(page) == [slugs[n] for n in sorted(names, key=str.casefold)]
    assert "Enter a whole number." in page.content.decode()


def test_htmx_gets_only_the_results(client, surgeon, snapshot):
    client.force_login(surgeon)
    page = client.get(reverse("directory"), {"focus": "multi"}, headers={"HX-Request": "true"})
    body = page.content.decode()
    assert body.lstrip().startswith('<section id="results"')
    assert 'class="filters"' not in body  # the filter form stays as it is


def test_no_match_says_what_to_do(client, surgeon, snapshot):
    client.force_login(surgeon)
    page = client.get(reverse("directory"), {"min_nps": 100})
    assert "No MSO matches these filters." in page.content.decode()
    assert "Clear the filters" in page.content.decode()


def test_before_any_snapshot_the_directory_says_so(client, surgeon):
    client.force_login(surgeon)
    page = client.get(reverse("directory")).content.decode()
    assert "No scorecard has been computed yet." in page


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_directory_and_profile_query_counts_do_not_grow_with_the_msos(client, surgeon, snapshot):
    client.force_login(surgeon)
    slug = next(iter(cards(snapshot)))
    small = (_queries(client, reverse("directory")),
             _queries(client, reverse("mso_profile", args=[slug])))
    for mso in list(MSO.objects.all()):
        mso.pk, mso.name, mso.slug = None, mso.name + " II", mso.slug + "-ii"
        mso.save()
    scorecard_compute(as_of=AS_OF + datetime.timedelta(days=1))
    big = (_queries(client, reverse("directory")),
           _queries(client, reverse("mso_profile", args=[slug])))
    assert big == small
    # The profile reads the surgeon's priorities (their total beside the methodology's) and
    # whether the MSO is on their shortlist: two queries more than the directory's budget.
    assert small[0] <= 10 and small[1] <= 12


def test_a_snapshot_is_read_once_per_process_and_a_new_one_afresh(client, surgeon, snapshot):
    client.force_login(surgeon)
    cold = _queries(client, reverse("directory"))
    # Its rows and its methodology's weights are read once, then kept for the snapshot.
    assert _queries(client, reverse("directory")) == cold - 2
    # New evidence makes a new snapshot: the directory shows its figures, not the old ones.
    mso = MSO.objects.get(slug=listed(client.get(reverse("directory")))[0])
    mso.published = False
    mso.save()
    newer = scorecard_compute(as_of=AS_OF + datetime.timedelta(days=1))[0]
    assert newer.pk != snapshot.pk
    assert _queries(client, reverse("directory")) == cold
    assert mso.slug not in listed(client.get(reverse("directory")))


def test_a_snapshot_from_before_documents_held_the_facts_still_filters_on_them(
        client, surgeon, snapshot):
    client.force_login(surgeon)
    state = MSO.objects.filter(published=True).first().affiliations.first().practice.state
    page = client.get(reverse("directory"), {"state": state, "focus": "single"})
    for card in MsoScorecard.objects.filter(snapshot=snapshot):
        card.summary.pop("facts")
        card.save(update_fields=["summary"])
    snapshot_cache_forget()
    older = client.get(reverse("directory"), {"state": state, "focus": "single"})
    assert listed(older) == listed(page) and listed(page)
    assert older.content.decode().count("Single specialty") == page.content.decode().count(
        "Single specialty")


def test_the_profile_shows_the_snapshots_figures_and_the_evidence(client, surgeon, snapshot):
    client.force_login(surgeon)
    slug, d = max(cards(snapshot).items(), key=lambda item: item[1]["nps"]["n"])
    text = client.get(reverse("mso_profile", args=[slug])).content.decode()
    assert d["name"] in text
    assert f'n={d["nps"]["n"]} responses' in text
    average = d["practice_average_nps"]
    if average["status"] == "ok":
        assert f"Mean over {average['practices']} practices with 30+ responses" in text
    for practice in d["practices"]:
        assert practice["code"] in text
    for year in d["nps_by_year"]:
        assert f'id="year-{year["year"]}"' in text
    for claim in d["claims"]:
        assert claim["statement"] in text
    assert "Self-reported NPS" in text


def test_an_unpublished_or_unknown_mso_is_404(client, surgeon, snapshot):
    client.force_login(surgeon)
    mso = MSO.objects.first()
    MSO.objects.filter(pk=mso.pk).update(published=False)
    assert client.get(reverse("mso_profile", args=[mso.slug])).status_code == 404
    assert client.get(reverse("mso_profile", args=["no-such-mso"])).status_code == 404


@pytest.mark.parametrize("role, status", [("surgeon", 200), ("consultant", 200),
                                          ("data_admin", 200), ("outsider", 403)])
def test_who_may_read_the_directory(client, request, role, status, snapshot):
    client.force_login(request.getfixturevalue(role))
    slug = next(iter(cards(snapshot)))
    assert client.get(reverse("directory")).status_code == status
    assert client.get(reverse("mso_profile", args=[slug])).status_code == status


def test_anonymous_visitors_are_sent_to_log_in(client, snapshot):
    assert client.get(reverse("directory"))["Location"].startswith(reverse("login"))


def test_bands_are_read_from_the_interval_and_explained_once(client, surgeon, snapshot):
    from scorecards.selectors import benchmarks
    from scorecards.statistics import nps_band_of_interval

    _, bands = benchmarks(snapshot.data_as_of)
    client.force_login(surgeon)
    text = client.get(reverse("directory")).content.decode()

    shown = [d["nps"] for d in cards(snapshot).values() if d["nps"]["status"] == "ok"]
    assert all(nps["band"] == nps_band_of_interval(nps["ci_low"], nps["ci_high"], bands)
               for nps in shown)  # fmt: skip
    assert any(" or " in (nps["band"] or "") for nps in shown)  # an interval across a bound
    for nps in shown:
        if nps["band"]:
            assert f"n={nps['n']} · {nps['band']}" in text
    assert text.count("A band is named only when the whole 95% interval lies in it") == 1


def test_with_saved_priorities_the_profile_shows_the_surgeons_total_as_the_directory_does(
        client, surgeon, snapshot):  # fmt: skip
    from scorecards.models import SurgeonPriorities

    weights = {k: (60 if k == "support_breadth" else 40 if k == "patient_experience" else 0)
               for k in snapshot.methodology.weights()}  # fmt: skip
    SurgeonPriorities.objects.create(user=surgeon, weights=weights, must_haves={})
    client.force_login(surgeon)
    directory = client.get(reverse("directory")).content.decode()
    cards_shown = re.findall(r'<h2><a href="/msos/([^/]+)/">.*?Rank <strong>(\d+)</strong>.*?'
                             r"Total score.*?<strong>(\d+)</strong>", directory, re.S)  # fmt: skip
    assert cards_shown
    documents = cards(snapshot)
    differs = False
    for slug, rank, total in cards_shown[:5]:
        profile = client.get(reverse("mso_profile", args=[slug])).content.decode()
        lead = " ".join(re.sub(r"<[^>]+>", " ", profile.split('id="profile-total">')[1]
                               .split("</p>")[0]).split())  # fmt: skip
        assert lead.startswith(f"With your priorities: rank {rank} with a total of {total} of 100")
        document = documents[slug]
        if document["ranked"]:
            assert (f"with the methodology's weights: rank {document['rank']}, total "
                    f"{document['total']:.0f}") in lead  # fmt: skip
            differs |= f"{document['total']:.0f}" != total
    assert differs  # the two totals differ for some MSO, and each is labelled

"""A surgeon browses in real Chromium: filters the directory, opens a profile, follows a figure
to its evidence, shortlists an MSO with a note, and another surgeon cannot see it.
Screenshots of each page at 1280 and 390 px go to var/test/screenshots/."""

import json
import re

import pytest
from django.contrib.auth.models import Group, User

from partners.roles import SURGEON
from scorecards.models import ShortlistEntry

from .conftest import log_in, shoot, wait_until, watch

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_surgeon_filters_opens_a_profile_and_shortlists(request, viewport, live_server,
                                                          surgeon, snapshot):  # fmt: skip
    page = request.getfixturevalue(viewport)
    page.set_default_timeout(10_000)
    errors = watch(page)
    log_in(page, live_server, "surgeon")
    page.goto(f"{live_server.url}/msos/")
    cards = page.locator("li.mso-card")
    everyone = cards.count()
    assert everyone > 3
    shoot(page, "directory")

    # A filter swaps the results through htmx: the URL carries it, no full reload.
    page.evaluate("window.notReloaded = true")
    page.select_option("#id_focus", "multi")
    page.wait_for_url("**focus=multi**")
    wait_until(page, f"document.querySelectorAll('li.mso-card').length < {everyone}")
    assert page.evaluate("window.notReloaded") is True
    multi = cards.count()
    assert 0 < multi < everyone
    page.go_back()
    wait_until(page, f"document.querySelectorAll('li.mso-card').length == {everyone}")

    # A profile, and a figure followed to its evidence.
    name = cards.first.locator("h2 a").inner_text()
    cards.first.locator("h2 a").click()
    page.wait_for_url("**/msos/*/")
    assert page.locator("h1").inner_text() == name
    assert page.locator("svg[role=img]").count() >= 2
    shoot(page, "profile")
    page.get_by_role("link", name=re.compile("See (each|the) practice")).first.click()
    assert page.locator("#practices tbody tr").count() > 0
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]

    # Shortlisted with a note.
    page.get_by_role("button", name="Add to shortlist").first.click()
    page.goto(f"{live_server.url}/shortlist/")
    assert name in page.locator("main").inner_text()
    page.locator("textarea").first.fill("Ask about call coverage.")
    page.get_by_role("button", name="Save note").first.click()
    page.wait_for_timeout(300)
    shoot(page, "shortlist")
    assert ShortlistEntry.objects.get(user=surgeon).note == "Ask about call coverage."
    assert errors == []


def test_another_surgeon_does_not_see_the_shortlist(desktop, live_server, surgeon, snapshot):
    from partners.models import MSO

    ShortlistEntry.objects.create(user=surgeon, mso=MSO.objects.first(), note="Private thought")
    other = User.objects.create_user("other", password="pw-other")
    other.groups.add(Group.objects.get(name=SURGEON))
    log_in(desktop, live_server, "other")
    desktop.goto(f"{live_server.url}/shortlist/")
    assert "Private thought" not in desktop.content()
    entry = ShortlistEntry.objects.get(user=surgeon)
    response = desktop.request.post(f"{live_server.url}/shortlist/{entry.pk}/note",
                                    form={"note": "x"},
                                    headers={"X-CSRFToken": _csrf(desktop)})  # fmt: skip
    assert response.status == 404


def _csrf(page):
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")


def test_a_surgeon_compares_three_msos_and_sets_priorities(desktop, live_server, surgeon,
                                                            snapshot):  # fmt: skip
    page = desktop
    page.set_default_timeout(10_000)
    errors = watch(page)
    log_in(page, live_server, "surgeon")
    page.goto(f"{live_server.url}/msos/")
    for box in page.locator("input[name=m]").all()[:3]:
        box.check()
    page.get_by_role("button", name="Compare the ticked MSOs").click()
    page.wait_for_url("**/compare/?m=*")
    assert page.locator("table.compare thead th a").count() == 3
    shoot(page, "compare")
    before = page.locator("tr.total-row").inner_text()

    # Only support breadth counts: the totals and ranks change at once, without a reload.
    page.evaluate("window.notReloaded = true")
    assert page.locator("details[open]").count() == 1  # no priorities saved yet: open
    for field in page.locator(".weights input").all():
        field.fill("0")
    page.locator("#id_weight_support_breadth").fill("100")
    page.locator("#id_weight_support_breadth").dispatch_event("change")
    wait_until(page, 
        f"document.querySelector('tr.total-row').innerText !== {json.dumps(before)}")
    assert page.evaluate("window.notReloaded") is True

    # A must-have nobody meets: every MSO is flagged and says why, none is hidden.
    page.locator("summary").click() if not page.locator("details[open]").count() else None
    page.locator("#id_min_nps").fill("100")
    page.locator("#id_min_nps").dispatch_event("change")
    wait_until(page, "document.querySelectorAll('tr.total-row .flag').length === 3")
    assert "patient NPS is not at least 100" in page.locator("tr.total-row").inner_text()
    assert page.locator("table.compare thead th a").count() == 3
    shoot(page, "compare-priorities")
    assert errors == []


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_surgeon_reweights_the_directory_and_follows_figures_to_their_evidence(
        request, viewport, live_server, surgeon, snapshot):
    page = request.getfixturevalue(viewport)
    page.set_default_timeout(10_000)
    errors = watch(page)
    log_in(page, live_server, "surgeon")
    page.goto(f"{live_server.url}/msos/")
    names = page.locator("li.mso-card h2 a")
    before = names.all_inner_texts()

    # Only support breadth counts: the list is ranked again at once, without a reload.
    page.evaluate("window.notReloaded = true")
    page.locator("#directory-body summary").click()
    for field in page.locator("#directory-body .weights input").all():
        field.fill("0")
    page.locator("#id_weight_support_breadth").fill("100")
    page.locator("#id_weight_support_breadth").dispatch_event("change")
    page.wait_for_selector("text=your own priorities")
    assert page.evaluate("window.notReloaded") is True
    assert names.all_inner_texts() != before
    shoot(page, "directory-priorities")

    # A year of the NPS series, then the interviews behind the partners' figures.
    names.first.click()
    page.wait_for_url("**/msos/*/")
    page.locator("#years ~ table a").first.click()
    page.wait_for_url("**/years/*/")
    assert page.locator("tbody tr").count() > 0
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    shoot(page, "year")
    page.go_back()
    page.get_by_role("link", name="See each interview").click()
    page.wait_for_url("**/interviews/")
    assert page.locator("h1").inner_text().startswith("What the surgeon partners of")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    shoot(page, "interviews")
    assert errors == []


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_compare_folds_saved_priorities_and_puts_results_first_on_a_phone(
        request, viewport, live_server, surgeon, snapshot):  # fmt: skip
    from scorecards.models import MsoScorecard, SurgeonPriorities

    SurgeonPriorities.objects.create(user=surgeon, weights=snapshot.methodology.weights()
                                     | {"support_breadth": 20}, must_haves={})  # fmt: skip
    slugs = list(MsoScorecard.objects.filter(snapshot=snapshot, rank__isnull=False)
                 .order_by("rank").values_list("mso__slug", flat=True)[:3])  # fmt: skip
    page = request.getfixturevalue(viewport)
    errors = watch(page)
    log_in(page, live_server, "surgeon")
    page.goto(f"{live_server.url}/compare/?" + "&".join(f"m={s}" for s in slugs))

    assert page.locator("form.priorities details[open]").count() == 0  # saved: folded
    table = page.locator("table.compare").bounding_box()
    form = page.locator("form.priorities").bounding_box()
    if viewport == "phone":
        assert table["y"] < form["y"]  # the results come first
        # Each text's font size in screen pixels: its size in the chart's units, scaled as the
        # chart is drawn.
        sizes = page.evaluate("""[...document.querySelectorAll('svg.chart text')].map(t => {
            const svg = t.ownerSVGElement;
            const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            return parseFloat(getComputedStyle(t).fontSize) * scale; })""")
        assert sizes and min(sizes) >= 12
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"]
    shoot(page, "compare-saved")
    assert errors == []


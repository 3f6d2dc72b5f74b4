"""From a figure to the evidence behind it: a year of an MSO's NPS series and its practices, and
the reference interviews one by one under the quoting rules."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from partners.models import MSO, PromiseItem, ReferenceInterview, SurveyResponse
from partners.services import survey_response_save
from scorecards.models import MsoScorecard
from scorecards.profile import listable_interviews
from scorecards.services import scorecard_compute
from tests.partners.factories import make_interview

pytestmark = pytest.mark.django_db
AS_OF = datetime.date(2026, 6, 1)


def busiest(snapshot):
    """(slug, document) of the MSO with the most responses in the 12 months."""
    cards = MsoScorecard.objects.filter(snapshot=snapshot).select_related("mso")
    card = max(cards, key=lambda c: c.document["nps"]["n"])
    return card.mso.slug, card.document


def test_a_year_lists_its_practices_whose_responses_add_up_to_the_years_figure(
        client, surgeon, snapshot):
    client.force_login(surgeon)
    slug, d = busiest(snapshot)
    profile = client.get(reverse("mso_profile", args=[slug])).content.decode()
    for y in d["nps_by_year"]:
        url = reverse("mso_year", args=[slug, y["year"]])
        assert f'href="{url}"' in profile
        page = client.get(url)
        assert page.status_code == 200
        practices = page.context["practices"]
        assert sum(p["n"] for p in practices) == y["n"]
        assert page.context["figure"] == y
        text = page.content.decode()
        for p in practices:
            assert p["code"] in text
            if p["status"] == "ok":
                assert f'{p["nps"]:.0f}' in text


def test_the_current_year_stops_where_the_snapshot_stops(client, surgeon, snapshot):
    client.force_login(surgeon)
    slug, d = busiest(snapshot)
    current = d["nps_by_year"][-1]
    assert current["year"] == AS_OF.year
    # A response after data-as-of changes nothing shown for that year.
    response = SurveyResponse.objects.filter(practice__affiliations__mso__slug=slug).first()
    response.pk, response.response_id = None, "late-one"
    response.responded_on = AS_OF + datetime.timedelta(days=3)
    survey_response_save(response=response)
    page = client.get(reverse("mso_year", args=[slug, AS_OF.year]))
    assert sum(p["n"] for p in page.context["practices"]) == current["n"]
    assert "the last full month before the data-as-of date" in page.content.decode()


def test_a_year_outside_the_series_or_an_unknown_mso_is_404(client, surgeon, snapshot):
    client.force_login(surgeon)
    slug, _ = busiest(snapshot)
    assert client.get(reverse("mso_year", args=[slug, 1990])).status_code == 404
    assert client.get(reverse("mso_year", args=["no-such-mso", 2025])).status_code == 404
    assert client.get(reverse("mso_interviews", args=["no-such-mso"])).status_code == 404


def test_the_drilldown_pages_issue_a_fixed_number_of_queries(client, surgeon, snapshot):
    client.force_login(surgeon)
    client.get(reverse("directory"))  # what is read once per snapshot is read here
    counts = []
    for card in MsoScorecard.objects.filter(snapshot=snapshot).select_related("mso")[:3]:
        year = card.document["nps_by_year"][-1]["year"]
        for url in (reverse("mso_year", args=[card.mso.slug, year]),
                    reverse("mso_interviews", args=[card.mso.slug])):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts.append(len(queries))
    assert counts[0::2] == [counts[0]] * 3 and counts[1::2] == [counts[1]] * 3


def test_interviews_name_surgeons_only_with_consent_and_list_anonymous_ones_from_three(
        client, surgeon, snapshot):
    client.force_login(surgeon)
    mso = MSO.objects.filter(published=True).first()
    ReferenceInterview.objects.filter(mso=mso).delete()
    named = make_interview(mso, interviewee="Dr. Willing Named", consent_to_quote=True,
                           advice="Read every page of the contract.")  # fmt: skip
    PromiseItem.objects.create(interview=named, service_area="revenue_cycle", outcome="broken",
                               note="Billing stayed with us for a year.")  # fmt: skip
    make_interview(mso, interviewee="Dr. Quiet Unnamed", consent_to_quote=False,
                   advice="Ask who owns the equipment.")  # fmt: skip
    scorecard_compute(as_of=AS_OF + datetime.timedelta(days=1))
    url = reverse("mso_interviews", args=[mso.slug])
    text = client.get(url).content.decode()
    assert "Dr. Willing Named" in text and "Read every page of the contract." in text
    assert "Billing stayed with us for a year." in text and "Broken" in text
    assert "Dr. Quiet Unnamed" not in text and "Ask who owns the equipment." not in text
    assert "1 interview without consent to be named is counted in the scores" in text
    make_interview(mso, interviewee="Dr. Third Unnamed", consent_to_quote=False)
    scorecard_compute(as_of=AS_OF + datetime.timedelta(days=2))
    text = client.get(url).content.decode()
    assert "Ask who owns the equipment." in text
    assert text.count("A surgeon partner (anonymous)") == 2
    assert "Dr. Quiet Unnamed" not in text and "Dr. Third Unnamed" not in text
    assert "without consent to be named" not in text


def test_listable_interviews_never_carry_a_name_without_consent():
    interviews = [{"interviewee": f"Dr. {i}", "consent": i == 0} for i in range(4)]
    for count in range(5):
        listed, withheld = listable_interviews(interviews[:count])
        assert len(listed) + withheld == count
        assert all("interviewee" not in i for i in listed)
        assert [i["by"] for i in listed if i["by"]] == (["Dr. 0"] if count else [])
        assert withheld == (count - 1 if 0 < count < 3 else 0)


@pytest.mark.parametrize("role", ["outsider"])
def test_accounts_without_a_reading_role_may_not_open_the_evidence(client, request, role,
                                                                   snapshot):
    client.force_login(request.getfixturevalue(role))
    slug, d = busiest(snapshot)
    assert client.get(reverse("mso_year", args=[slug, d["nps_by_year"][0]["year"]])
                      ).status_code == 403  # fmt: skip
    assert client.get(reverse("mso_interviews", args=[slug])).status_code == 403

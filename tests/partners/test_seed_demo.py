import datetime
import hashlib
import io
import json
import random
import re

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F, Q
from django.test import RequestFactory
from django.utils.text import slugify

from partners import demo
from partners.models import (
    MSO,
    Accreditation,
    Affiliation,
    AggregateNPSSubmission,
    Claim,
    InterviewProvenance,
    MSOService,
    OwnershipModel,
    Practice,
    PromiseItem,
    QualityDesignation,
    ReferenceInterview,
    SpecialtyFocus,
    SurveyComment,
    SurveyImport,
    SurveyResponse,
)
from partners.roles import CONSULTANT, DATA_ADMIN, SURGEON
from partners.rollups import rollups_differences

TINY = {"scale": "tiny", "seed": 7, "as_of": "2026-06-01"}


def _login_request():
    # Logins are throttled per client address (django-axes), so they need a request.
    return RequestFactory().post("/login/")



def seed(**options):
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def digest():
    """A hash of every generated row by natural keys, so auto ids do not matter."""
    parts = {
        "msos": MSO.objects.values_list(
            "slug", "name", "ownership_model", "specialty_focus", "specialties",
            "clinical_autonomy_terms", "founded_year", "reported_practices",
            "reported_surgeons", "reported_states", "values", "website", "published",
        ),
        "services": MSOService.objects.values_list("mso__slug", "area", "detail"),
        "practices": Practice.objects.values_list("code", "name", "city", "state", "surgeons"),
        "affiliations": Affiliation.objects.values_list(
            "practice__code", "mso__slug", "started_on", "ended_on"
        ),
        "responses": SurveyResponse.objects.values_list(
            "practice__code", "responded_on", "score", "source", "response_id"
        ),
        "comments": SurveyComment.objects.values_list(
            "response__practice__code", "response__responded_on", "response__score", "text"
        ),
        "interviews": ReferenceInterview.objects.values_list(
            "mso__slug", "interviewee", "practice__code", "interviewed_on", "years_affiliated",
            "provenance", "consent_to_quote", "interviewer", "promised", "delivered", "trust",
            "would_choose_again", "advice", "autonomy",
        ),
        "promises": PromiseItem.objects.values_list(
            "interview__interviewee", "service_area", "outcome", "note"
        ),
        "accreditations": Accreditation.objects.values_list(
            "practice__code", "body", "awarded_on", "expires_on"
        ),
        "designations": QualityDesignation.objects.values_list(
            "practice__code", "name", "awarded_by", "awarded_on", "expires_on"
        ),
        "claims": Claim.objects.values_list(
            "mso__slug", "kind", "parameters", "statement", "source", "stated_on"
        ),
        "aggregates": AggregateNPSSubmission.objects.values_list(
            "mso__slug", "practice__code", "period_start", "period_end", "promoters",
            "passives", "detractors", "provenance", "source",
        ),
    }  # fmt: skip
    canonical = {
        name: sorted(json.dumps(list(row), sort_keys=True, default=str) for row in rows)
        for name, rows in parts.items()
    }
    assert all(canonical[name] for name in ("msos", "responses", "interviews", "claims"))
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


@pytest.mark.django_db
def test_same_seed_gives_the_same_data_and_another_seed_does_not():
    seed(**TINY)
    first = digest()

    seed(reset=True, **TINY)
    assert digest() == first

    seed(reset=True, **{**TINY, "seed": 8})
    assert digest() != first


def yearly_nps():
    """{mso slug: {year: (n, nps)}}, each response counted for the MSO of its day."""
    covered = Q(practice__affiliations__started_on__lte=F("responded_on")) & (
        Q(practice__affiliations__ended_on__isnull=True)
        | Q(practice__affiliations__ended_on__gte=F("responded_on"))
    )
    rows = (
        SurveyResponse.objects.filter(covered)  # one filter() call: one affiliation join
        .values("practice__affiliations__mso__slug", "responded_on__year")
        .annotate(
            n=Count("id"),
            promoters=Count("id", filter=Q(score__gte=9)),
            detractors=Count("id", filter=Q(score__lte=6)),
        )
    )
    result = {slug: {} for slug in MSO.objects.values_list("slug", flat=True)}
    for row in rows:
        n = row["n"]
        nps = 100 * (row["promoters"] - row["detractors"]) / n
        result[row["practice__affiliations__mso__slug"]][row["responded_on__year"]] = (n, nps)
    return result


@pytest.mark.django_db
def test_demo_scale_has_the_promised_shape():
    output = seed(scale="demo", seed=1, as_of="2026-01-01")
    assert re.search(r"Loaded demo data .* in [\d.]+ s\.$", output.strip())

    msos = MSO.objects.all()
    assert msos.count() == 12
    assert not msos.filter(published=False).exists()
    assert set(msos.values_list("ownership_model", flat=True)) == set(OwnershipModel.values)
    assert set(msos.values_list("specialty_focus", flat=True)) == set(SpecialtyFocus.values)
    single = msos.filter(specialty_focus=SpecialtyFocus.SINGLE)
    assert set(single.values_list("specialties", flat=True)) == {"Oral and maxillofacial surgery"}
    assert len(set(msos.values_list("clinical_autonomy_terms", flat=True))) == 12
    assert len({m.services.count() for m in msos}) >= 4  # different breadths

    assert 250 <= Practice.objects.count() <= 350
    assert Practice.objects.filter(affiliations__isnull=True).exists()  # a few unaffiliated
    switched = Practice.objects.annotate(n=Count("affiliations__mso", distinct=True))
    assert switched.filter(n__gte=2).exists()

    responses = SurveyResponse.objects.count()
    assert 120_000 <= responses <= 180_000
    first, last = datetime.date(2020, 1, 1), datetime.date(2025, 12, 31)
    assert not SurveyResponse.objects.exclude(responded_on__range=(first, last)).exists()
    assert not SurveyResponse.objects.exclude(source="demo").exists()
    assert 0 < SurveyComment.objects.count() < responses * 0.02

    interviews = ReferenceInterview.objects.all()
    assert 60 <= interviews.count() <= 100
    assert set(interviews.values_list("provenance", flat=True)) == set(InterviewProvenance.values)
    per_mso = interviews.values("mso").annotate(n=Count("id"))
    assert min(row["n"] for row in per_mso) < 3
    for interview in interviews.prefetch_related("promise_ledger"):
        assert 2 <= len(interview.promise_ledger.all()) <= 6

    as_of = datetime.date(2026, 1, 1)
    assert Accreditation.objects.filter(expires_on__lt=as_of).exists()
    assert Accreditation.objects.filter(awarded_on__lte=as_of, expires_on__gte=as_of).exists()
    assert QualityDesignation.objects.exists()
    assert Claim.objects.filter(kind="nps_above_each_year").exists()
    assert Claim.objects.filter(kind="other").exists()
    assert AggregateNPSSubmission.objects.filter(provenance="self_reported").exists()

    nps = yearly_nps()
    # Every response belongs to exactly one affiliation: no double counting, none lost.
    assert sum(n for years in nps.values() for n, _ in years.values()) == responses
    years = range(2020, 2026)
    world_class = [
        slug for slug, by_year in nps.items()
        if all(year in by_year and by_year[year][1] > 80 for year in years)
    ]  # fmt: skip
    assert world_class
    too_few = [slug for slug, by_year in nps.items() if 0 < by_year.get(2025, (0,))[0] < 30]
    assert too_few
    declining = [
        slug for slug, by_year in nps.items()
        if 2020 in by_year and 2025 in by_year and by_year[2020][1] - by_year[2025][1] >= 30
    ]  # fmt: skip
    assert declining
    assert len(set(world_class + too_few + declining)) == 3


LOGIN_LINE = re.compile(r"^\s*(\w+)\s+password: (\S+)$", re.MULTILINE)


@pytest.mark.django_db
def test_demo_users_get_fresh_passwords_that_work():
    output = seed(with_demo_users=True, **TINY)
    assert "Demo logins (new passwords on every run):" in output
    first = dict(LOGIN_LINE.findall(output))
    assert set(first) == {"surgeon", "consultant", "dataadmin"}
    # The line a CI script reads.
    assert re.search(r"^\s*surgeon\s+password: (\S+)", output, re.MULTILINE)

    for username, role in (("surgeon", SURGEON), ("consultant", CONSULTANT),
                           ("dataadmin", DATA_ADMIN)):  # fmt: skip
        user = authenticate(_login_request(), username=username, password=first[username])
        assert user is not None
        assert list(user.groups.values_list("name", flat=True)) == [role]
    assert User.objects.get(username="dataadmin").is_staff
    assert not User.objects.get(username="surgeon").is_staff

    again = dict(LOGIN_LINE.findall(seed(with_demo_users=True, **TINY)))
    assert again["surgeon"] != first["surgeon"]
    assert authenticate(_login_request(), username="surgeon", password=first["surgeon"]) is None
    assert authenticate(_login_request(), username="surgeon", password=again["surgeon"]) is not None


def counts():
    models = (MSO, Practice, SurveyResponse, ReferenceInterview, PromiseItem, Claim)
    return {model.__name__: model.objects.count() for model in models}


@pytest.mark.django_db
def test_second_run_without_reset_keeps_the_data():
    first_output = seed(**TINY)
    assert "already loaded" not in first_output
    before = counts()
    assert before["MSO"] > 0 and before["SurveyResponse"] > 0

    output = seed(**TINY)
    assert "Demo data already loaded; use --reset to replace it." in output
    assert "Loaded demo data" not in output
    assert counts() == before


@pytest.mark.django_db
def test_responses_come_as_survey_imports_with_their_rollups():
    seed(responses=500, **TINY)
    responses = SurveyResponse.objects.count()
    assert 400 <= responses <= 600  # --responses overrides the scale's count
    imports = SurveyImport.objects.all()
    assert set(imports.values_list("source", flat=True)) == {"demo"}
    assert sum(imports.values_list("rows", flat=True)) == responses
    assert not SurveyResponse.objects.filter(survey_import__isnull=True).exists()
    assert rollups_differences() == []


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's path")
def test_copy_and_the_survey_import_store_the_same_data(monkeypatch):
    seed(**TINY)
    copied = digest()
    assert rollups_differences() == []
    with connection.cursor() as cursor:  # the indexes COPY dropped are back, and valid
        cursor.execute("""
            SELECT count(*), bool_and(x.indisvalid) FROM pg_index x
            WHERE x.indrelid IN ('partners_surveyresponse'::regclass,
                                 'partners_surveyresponse_0'::regclass)
        """)  # fmt: skip
        assert cursor.fetchone() == (8, True)

    # Patched where load() looks it up: the package only re-exports it.
    monkeypatch.setattr(
        "partners.demo.generator.copy_responses", lambda rows, _: demo.import_responses(rows)
    )
    seed(reset=True, **TINY)
    assert digest() == copied
    assert rollups_differences() == []


@pytest.mark.django_db
def test_as_of_in_the_future_is_refused():
    future = datetime.date.today() + datetime.timedelta(days=40)
    with pytest.raises(CommandError, match="in the future"):
        seed(scale="tiny", as_of=future.isoformat())
    assert not MSO.objects.exists()


def test_large_scale_plan_has_the_size_of_the_product_brief():
    """Planning only (no database, no responses): 300 MSOs with distinct names, 10,000
    practices whose MSOs cover the ten survey years, 5,000 distinctly named interviewees."""
    scale, as_of = demo.SCALES["large"], datetime.date(2026, 6, 1)

    def rng(part):
        return random.Random(f"1:{part}")

    profiles = demo.PROFILES[: scale.profiles]
    profiles += demo.generated_profiles(rng("generated-msos"), scale.extra_msos)
    assert len(profiles) == 300
    assert len({p.name for p in profiles}) == len({slugify(p.name) for p in profiles}) == 300

    plans = demo.plan_practices(rng("practices"), profiles, scale.practices, as_of, scale.years)
    assert len(plans) == 10_000
    first_day = demo.add_years(as_of, -scale.years)
    earliest = {}
    for plan in plans:
        for stint in plan.stints:
            earliest[stint.mso] = min(earliest.get(stint.mso, as_of), stint.started)
    regular = [i for i, p in enumerate(profiles) if p.role != "sparse"]
    assert all(earliest[i] < first_day for i in regular)  # responses in every year

    interviews = demo.plan_interviews(rng("interviews"), profiles, plans, scale.interviews, as_of)
    assert len(interviews) == 5_000
    assert len({interview.interviewee for _, _, interview, _ in interviews}) == 5_000

"""Benchmark the server time of the data admin's pages over the big tables, each against the
admin MSO list measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_admin \
        REDIS_URL=redis://127.0.0.1:6379/12 \
        DEBUG=1 VAR_DIR=/tmp/bench-var .venv/bin/python bench/admin.py [--runs 10]

The database is used as it is (seed it with ``seed_demo --scale large``, optionally with
``--responses 1000000``; see bench/pages.py for the snapshot caveat of ``--reset``). The
bench writes one row at most: a superuser named ``bench-admin``, created if absent. Its
session lives in a signed cookie and its last login is not updated, so that a read-only
database stays as it was.

In a child process with the environment of a production server (DEBUG=0) the user is
logged in on a Django test ``Client``; each page is requested once to warm up (and its
queries counted), then --runs times, the pages taking turns, and the median server time of
each is printed in ms with its ratio to the admin MSO list:
  MSO list                         /admin/partners/mso/ (the baseline)
  responses list                   /admin/partners/surveyresponse/
  responses, search practice code  ?q=<the code of the first practice>
  responses, search response id    ?q=<the response id of the newest response with one>
  comments list                    /admin/partners/surveycomment/
  affiliations list                /admin/partners/affiliation/
  audit log list                   /admin/auditlog/logentry/
  MSO change page                  the MSO with the most affiliations
Targets (issue 18): the responses list <= 300 ms at 10M responses and <= 5x the MSO list;
its searches <= 5x; the MSO change page <= 3x; the other lists <= 5x.
"""

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USERNAME = "bench-admin"
HOST = "127.0.0.1"
BASELINE = "MSO list"
# name: (ratio to the MSO list, ms) targets; None where the issue gives none.
TARGETS = {
    "responses list": (5, 300),
    "responses, search practice code": (5, 300),
    "responses, search response id": (5, 300),
    "comments list": (5, None),
    "affiliations list": (5, None),
    "audit log list": (5, None),
    "MSO change page": (3, None),
}


def child_env(extra=None):
    env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "1")}
    env.setdefault("VAR_DIR", "/tmp/bench-var")
    env.update(extra or {})
    return env


def server_env():
    """A production server's environment (DEBUG=0, which serves collected static files)."""
    env = child_env({"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50),
                     "ALLOWED_HOSTS": HOST})  # fmt: skip
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "collectstatic", "--no-input", "-v0"],
                   env=env, cwd=ROOT, check=True)  # fmt: skip
    return env


def admin_client():
    """A test Client logged in as the bench's superuser, writing nothing but that user."""
    from django.conf import settings
    from django.contrib.auth import get_user_model, user_logged_in
    from django.contrib.auth.models import update_last_login
    from django.test import Client

    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
    user = get_user_model().objects.filter(username=USERNAME).first()
    if user is None:
        user = get_user_model().objects.create_superuser(USERNAME, password=None)
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    return client


def pages():
    from django.db.models import Count

    from partners.models import MSO, Practice, SurveyResponse

    code = Practice.objects.order_by("code").values_list("code", flat=True).first()
    response_id = (
        SurveyResponse.objects.filter(response_id__isnull=False)
        .order_by("-pk").values_list("response_id", flat=True).first()
    )  # fmt: skip
    mso = MSO.objects.annotate(n=Count("affiliations")).order_by("-n", "pk").first()
    found = {
        BASELINE: "/admin/partners/mso/",
        "responses list": "/admin/partners/surveyresponse/",
        "responses, search practice code": f"/admin/partners/surveyresponse/?q={code}",
        "responses, search response id": f"/admin/partners/surveyresponse/?q={response_id}",
        "comments list": "/admin/partners/surveycomment/",
        "affiliations list": "/admin/partners/affiliation/",
        "audit log list": "/admin/auditlog/logentry/",
        "MSO change page": f"/admin/partners/mso/{mso.pk}/change/",
    }
    if response_id is None:
        del found["responses, search response id"]
    return found


def measure(runs):
    """In the child: time each page over the test Client; print one JSON line."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mso_eval.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from partners.models import SurveyResponse
    from partners.paginators import planner_estimate

    client = admin_client()
    urls = pages()
    queries = {}
    for name, url in urls.items():  # warm-up, checks, query counts
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        if response.status_code != 200:
            sys.exit(f"{name} ({url}) answered {response.status_code}: {response.content[:300]!r}")
        queries[name] = len(captured.captured_queries)
    times = {name: [] for name in urls}
    for _ in range(runs):  # the pages take turns, so that a slow moment falls on all alike
        for name, url in urls.items():
            started = time.perf_counter()
            response = client.get(url)
            times[name].append(1000 * (time.perf_counter() - started))
            assert response.status_code == 200, (name, response.status_code)
    # The planner's figure, as the list shows it (summed over the partitions): counting
    # would take seconds.
    responses = planner_estimate(SurveyResponse.objects.all())
    print(json.dumps({"responses": responses, "urls": urls, "times_ms": times,
                      "queries": queries, "debug": os.environ.get("DEBUG")}))  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--runs", type=int, default=10, help="timed requests per page")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return measure(args.runs)
    if not args.database_url:
        sys.exit("Give --database-url (or DATABASE_URL).")
    os.environ["DATABASE_URL"] = args.database_url
    done = subprocess.run([sys.executable, __file__, "--child", "--runs", str(args.runs)],
                          env=server_env(), cwd=ROOT, capture_output=True, text=True,
                          check=False)  # fmt: skip
    if done.returncode:
        sys.exit(f"the child failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    r = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"\n== admin pages: about {r['responses']:,} responses, DEBUG={r['debug']}")
    base = statistics.median(r["times_ms"][BASELINE])
    print(f"  {'page':34} {'median ms':>10} {'ratio':>7} {'min':>8} {'max':>8} {'queries':>8}"
          "  target")  # fmt: skip
    over = []
    for name, times in r["times_ms"].items():
        median = statistics.median(times)
        if name == BASELINE:
            target = "baseline"
        else:
            ratio, ms = TARGETS[name]
            within = median <= ratio * base and (ms is None or median <= ms)
            limits = f"<= {ratio}x" + (f", <= {ms} ms" if ms else "")
            target = f"{limits}: {'ok' if within else 'OVER'}"
            if not within:
                over.append(name)
        print(f"  {name:34} {median:10.1f} {median / base:7.1f} {min(times):8.1f} "
              f"{max(times):8.1f} {r['queries'][name]:8d}  {target}")  # fmt: skip
    print(f"  median of {args.runs} requests each (Django test Client, in process)"
          + (f"; over: {', '.join(over)}" if over else "; all within"))  # fmt: skip


if __name__ == "__main__":
    main()

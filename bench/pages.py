"""Benchmark the server time of the surgeon's pages against /healthz, and optionally under load.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_pages \
        REDIS_URL=redis://127.0.0.1:6379/12 \
        DEBUG=1 VAR_DIR=/tmp/bench-var .venv/bin/python bench/pages.py \
        [--seed small|large] [--runs 30] [--load [--duration 60] [--connections 50]]

With --seed, the database is migrated and seeded first (``seed_demo --reset``; "large" is the
scale of the product brief: 300 MSOs, 10,000 practices, 10M responses, about 2 minutes on
PostgreSQL; "small" is the demo scale) and a snapshot is computed (``compute_scorecards
--sync``). Without it the database is used as it is; it needs a snapshot.

In a child process with the environment of a production server (DEBUG=0), a surgeon user (group
``partners.roles.SURGEON``) is created and logged in on a Django test ``Client``; each page is
requested once to warm up, then --runs times, the pages taking turns, and the median server
time of each is printed in ms with its ratio to /healthz, measured in the same run, beside the
median CPU time of the web process (all its threads; the database's own time not included):
  /msos/                      the directory
  /msos/<slug>/               the profile of the published MSO with the most practices
  /compare/?m=..x5            the five published MSOs with the most practices
  POST /compare/priorities    a weight change (htmx), weight_<criterion> for each criterion
(the weight change saves them: after the first turn the directory and compare are timed with
the surgeon's own priorities: each set of them is scored once, then read from the snapshot
cache like the rest)
Target: <= 50 ms for each of the four pages.

With --load, gunicorn (``mso_eval.wsgi -w 2 --threads 4``, DEBUG=0) is started on 127.0.0.1 on
a free port and ``wrk --latency`` runs --duration seconds with --connections connections against
/healthz, then, with the surgeon's session cookie, against /msos/, the profile and compare above;
p50/p95 latency, requests/s (with its ratio to /healthz's) and errors are printed side by side.
Target: /msos/ at least half the requests/s of /healthz, p95 <= 1 s, no errors. gunicorn is
stopped at the end.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED_SCALES = {"small": "demo", "large": "large"}
TARGET_MS = 50
USERNAME = "bench-pages-surgeon"
HOST = "127.0.0.1"

# done() of wrk: one JSON line with the percentiles (wrk --latency prints no p95) and errors.
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"p50_us": %d, "p95_us": %d, "p99_us": %d, "requests": %d, "duration_us": %d, '
    .. '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\\n',
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def child_env(extra=None):
    env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "1")}
    env.setdefault("VAR_DIR", "/tmp/bench-var")
    env.update(extra or {})
    return env


def manage(*args, env=None, **kwargs):
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env or child_env(),
                          cwd=ROOT, check=True, **kwargs)  # fmt: skip


def seed(scale):
    manage("migrate", "--no-input", "-v0")
    # seed_demo --reset cannot delete MSOs that snapshots refer to (MsoScorecard.mso is
    # PROTECT): the old snapshots describe evidence about to be replaced, so delete them first.
    manage("shell", "-v0", "-c", "from scorecards.models import ScorecardSnapshot; "
           "ScorecardSnapshot.objects.all().delete()")  # fmt: skip
    started = time.perf_counter()
    print(f"seeding: seed_demo --scale {SEED_SCALES[scale]} --reset", flush=True)
    manage("seed_demo", "--scale", SEED_SCALES[scale], "--reset")
    print(f"  seeded in {time.perf_counter() - started:.0f} s; computing a snapshot", flush=True)
    started = time.perf_counter()
    manage("compute_scorecards", "--sync")
    print(f"  snapshot computed in {time.perf_counter() - started:.1f} s", flush=True)


def django_setup():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mso_eval.settings")
    import django

    django.setup()


def surgeon_user():
    from django.contrib.auth import get_user_model

    from partners.roles import SURGEON, roles_sync

    groups = roles_sync()
    user, _ = get_user_model().objects.get_or_create(username=USERNAME)
    if user.has_usable_password():
        user.set_unusable_password()
        user.save()
    user.groups.add(groups[SURGEON])
    return user


def largest_msos(count):
    """Slugs of the published MSOs with the most current practices, largest first."""
    from django.db.models import Count, Q

    from partners.models import MSO

    return list(
        MSO.objects.filter(published=True)
        .annotate(n=Count("affiliations", filter=Q(affiliations__ended_on__isnull=True)))
        .order_by("-n", "slug")
        .values_list("slug", flat=True)[:count]
    )


def measure(runs):
    """In the child: time each page over the test Client; print one JSON line."""
    django_setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from partners.models import MSO, SurveyResponse
    from scorecards.models import SurgeonPriorities
    from scorecards.selectors import latest_snapshot

    snapshot = latest_snapshot()
    if snapshot is None:
        sys.exit("No scorecard snapshot: run with --seed, or compute_scorecards --sync.")
    user = surgeon_user()
    SurgeonPriorities.objects.filter(user=user).delete()
    slugs = largest_msos(5)
    weights = snapshot.methodology.weights()
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    compare_qs = "&".join(f"m={s}" for s in slugs)
    turn = {"n": 0}

    def weight_change():
        # Each request changes the weights: a different criterion doubled each time.
        keys = list(weights)
        boosted = keys[turn["n"] % len(keys)]
        turn["n"] += 1
        data = {f"weight_{k}": min(100, int(w) * (2 if k == boosted else 1) or 5)
                for k, w in weights.items()}  # fmt: skip
        data["m"] = slugs
        return client.post("/compare/priorities", data, headers={"HX-Request": "true"})

    pages = {
        "/healthz": lambda: client.get("/healthz"),
        "/msos/": lambda: client.get("/msos/"),
        f"/msos/{slugs[0]}/": lambda: client.get(f"/msos/{slugs[0]}/"),
        "/compare/?m=x5": lambda: client.get(f"/compare/?{compare_qs}"),
        "POST /compare/priorities": weight_change,
    }
    queries, sizes = {}, {}
    for name, request in pages.items():  # warm-up, checks, query counts
        with CaptureQueriesContext(connection) as captured:
            response = request()
        if response.status_code != 200:
            sys.exit(f"{name} answered {response.status_code}: {response.content[:500]!r}")
        queries[name] = len(captured.captured_queries)
        sizes[name] = len(response.content)
    times = {name: [] for name in pages}
    cpu = {name: [] for name in pages}
    for _ in range(runs):  # the pages take turns, so that a slow moment falls on all alike
        for name, request in pages.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            response = request()
            times[name].append(1000 * (time.perf_counter() - started))
            cpu[name].append(1000 * (time.process_time() - started_cpu))
            assert response.status_code == 200, (name, response.status_code)
    SurgeonPriorities.objects.filter(user=user).delete()
    print(json.dumps({
        "msos": MSO.objects.filter(published=True).count(),
        "responses": SurveyResponse.objects.count(),
        "snapshot": snapshot.pk, "criteria": list(weights), "compare": slugs,
        "debug": os.environ.get("DEBUG"),
        "times_ms": times, "cpu_ms": cpu, "queries": queries, "bytes": sizes,
    }))  # fmt: skip


def make_session():
    """In a child with the server's environment (its SECRET_KEY): a session of the surgeon, and
    the MSOs of the profile and compare, as one JSON line."""
    django_setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    user = surgeon_user()
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    print(json.dumps({"session": session.session_key, "compare": largest_msos(5)}))


def server_env():
    """The environment of a production server (DEBUG=0): both the timed pages and the load run
    use it, so the figures are those of a deployed server, without the debug checks.
    DEBUG=0 serves static files through the manifest storage: they are collected under VAR_DIR."""
    env = child_env({"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50),
                     "ALLOWED_HOSTS": HOST})  # fmt: skip
    manage("collectstatic", "--no-input", "-v0", env=env)
    return env


def run_child(*args, env=None):
    done = subprocess.run([sys.executable, __file__, *args], env=env or child_env(), cwd=ROOT,
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode:
        sys.exit(f"child {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout.strip().splitlines()[-1]


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def fetch(url, cookie=None):
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def wrk(url, duration, connections, cookie=None):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    command = ["wrk", "-t", "4", "-c", str(connections), "-d", f"{duration}s", "--latency",
               "--timeout", "10s", "-s", script.name]  # fmt: skip
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    print(f"  wrk {duration}s x {connections} connections: {url}", flush=True)
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    line = next(line for line in out.splitlines() if line.startswith("WRKJSON "))
    result = json.loads(line.removeprefix("WRKJSON "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(result[k] for k in ("connect", "read", "write", "status", "timeout"))
    return result


def load(duration, connections):
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install -y wrk).")
    port = free_port()
    env = server_env()
    made = json.loads(run_child("--make-session", env=env))
    cookie = f"sessionid={made['session']}"
    slugs = made["compare"]
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "mso_eval.wsgi", "-w", "2", "--threads", "4", "-b", f"{HOST}:{port}",
         "--log-level", "warning"],
        env=env, cwd=ROOT, start_new_session=True,
    )  # fmt: skip
    base = f"http://{HOST}:{port}"
    try:
        for _ in range(100):
            try:
                if fetch(f"{base}/healthz") == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            sys.exit("gunicorn did not answer /healthz with 200")
        print(f"\n== load: gunicorn -w 2 --threads 4 on {base} (DEBUG=0)", flush=True)
        pages = {"/msos/": "/msos/", "profile": f"/msos/{slugs[0]}/",
                 "compare x5": "/compare/?" + "&".join(f"m={s}" for s in slugs)}  # fmt: skip
        results = {"/healthz": wrk(f"{base}/healthz", duration, connections)}
        for name, path in pages.items():
            if (status := fetch(f"{base}{path}", cookie)) != 200:
                sys.exit(f"{path} with the surgeon's session answered {status}, not 200")
            results[name] = wrk(f"{base}{path}", duration, connections, cookie)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    print(f"  {'':22}" + "".join(f" {name:>12}" for name in results)
          + f" {'/msos/ ratio':>13}")  # fmt: skip
    rows = (("p50 latency (ms)", lambda r: r["p50_us"] / 1000),
            ("p95 latency (ms)", lambda r: r["p95_us"] / 1000),
            ("p99 latency (ms)", lambda r: r["p99_us"] / 1000),
            ("requests/s", lambda r: r["rps"]),
            ("requests", lambda r: r["requests"]),
            ("errors", lambda r: r["errors"]))  # fmt: skip
    for label, value in rows:
        a, b = value(results["/healthz"]), value(results["/msos/"])
        ratio = f"{b / a:13.2f}" if a else f"{'-':>13}"
        figures = "".join(f" {value(r):12.1f}" for r in results.values())
        print(f"  {label:22}{figures} {ratio}")
    for name, r in results.items():
        print(f"  {name} errors: connect {r['connect']}, read {r['read']}, write {r['write']}, "
              f"non-2xx/3xx {r['status']}, timeout {r['timeout']}")  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--seed", choices=sorted(SEED_SCALES))
    parser.add_argument("--runs", type=int, default=30, help="timed requests per page")
    parser.add_argument("--load", action="store_true", help="also run wrk against gunicorn")
    parser.add_argument("--duration", type=int, default=60, help="seconds of each wrk run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--make-session", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return measure(args.runs)
    if args.make_session:
        return make_session()
    if not args.database_url:
        sys.exit("Give --database-url (or DATABASE_URL).")
    os.environ["DATABASE_URL"] = args.database_url
    if args.seed:
        seed(args.seed)
    r = json.loads(run_child("--child", "--runs", str(args.runs), env=server_env()))
    print(f"\n== pages: {r['msos']} published MSOs, {r['responses']:,} responses, snapshot "
          f"{r['snapshot']}, {len(r['criteria'])} criteria, DEBUG={r['debug']}")  # fmt: skip
    print(f"  compare: {', '.join(r['compare'])}")
    base = statistics.median(r["times_ms"]["/healthz"])
    print(f"  {'page':44} {'median ms':>10} {'ratio':>8} {'min':>7} {'max':>7} {'cpu ms':>7} "
          f"{'queries':>8} {'KB':>6}  target")  # fmt: skip
    over = []
    for name, times in r["times_ms"].items():
        median = statistics.median(times)
        target = "baseline" if name == "/healthz" else (
            "ok" if median <= TARGET_MS else "OVER")  # fmt: skip
        if target == "OVER":
            over.append(name)
        print(f"  {name:44} {median:10.1f} {median / base:8.1f} {min(times):7.1f} "
              f"{max(times):7.1f} {statistics.median(r['cpu_ms'][name]):7.1f} "
              f"{r['queries'][name]:8d} {r['bytes'][name] / 1024:6.0f}  {target}")  # fmt: skip
    print(f"  median of {args.runs} requests each (Django test Client, in process); "
          f"target <= {TARGET_MS} ms for the four pages"
          + (f"; over: {', '.join(over)}" if over else "; all within"))  # fmt: skip
    if args.load:
        load(args.duration, args.connections)


if __name__ == "__main__":
    main()

"""Smoke test of `make run`: wait for /healthz, log in as the demo surgeon, read the home page.

Usage: smoke.py BASE_URL RUN_LOG
"""

import http.cookiejar
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

base, log_path = sys.argv[1], sys.argv[2]
opener = urllib.request.build_opener(
    urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
)


def get(path):
    with opener.open(base + path, timeout=10) as response:
        return response.read().decode()


def log():
    with open(log_path) as f:
        return f.read()


deadline = time.monotonic() + 300
while True:
    try:
        health = json.loads(get("/healthz"))
        # The Celery worker has started too, and the logins are printed (last, after it).
        if "ready." in log() and re.search(r"^\s*surgeon\s+password: ", log(), re.MULTILINE):
            break
    except (urllib.error.URLError, ConnectionError):
        pass
    if time.monotonic() > deadline:
        sys.exit("timed out waiting for /healthz, the worker and the demo logins")
    time.sleep(1)
print("healthz:", health)
assert health["status"] == "ok", health

match = re.search(r"^\s*surgeon\s+password: (\S+)", log(), re.MULTILINE)
assert match, "make run did not print the demo logins"
login_page = get("/login/")
token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)
form = urllib.parse.urlencode(
    {"username": "surgeon", "password": match.group(1), "csrfmiddlewaretoken": token}
).encode()
request = urllib.request.Request(base + "/login/", data=form, headers={"Referer": base + "/login/"})
with opener.open(request, timeout=10) as response:
    home = response.read().decode()
rows = home.count('<th scope="row"')
assert "Log out surgeon" in home, "login as the demo surgeon failed"
assert rows == 12, f"expected the 12 demo MSOs on the home page, found {rows}"
print(f"home page as surgeon: {rows} MSOs listed")

# `make run` queues the first scorecard computation: the page says it is under way until the
# worker has stored the snapshot.
deadline = time.monotonic() + 120
while True:
    scorecards = get("/scorecards/")
    if '<table class="scorecard"' in scorecards:
        break
    assert "The first scorecard is being computed." in scorecards, scorecards
    if time.monotonic() > deadline:
        sys.exit("timed out waiting for the first scorecard snapshot")
    time.sleep(1)
print("scorecards: the first snapshot was computed by the worker")

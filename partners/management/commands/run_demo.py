"""Serve the demo (``make run``): the web server and one Celery worker, then the address and the
demo logins, printed last so that the worker's banner does not push them off the screen.

It stops both, whatever stops it: Ctrl-C, a SIGTERM or SIGHUP to it, or the end of the process
that started it (a SIGTERM to ``make`` alone ends make, not its children: this command notices
that its parent is gone and stops them).
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request

from django.core.management.base import BaseCommand

from .seed_demo import demo_users

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
GRACE_SECONDS = 10


class Command(BaseCommand):
    help = "Run the web server and a worker for the demo; print the address and logins last."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")

    def handle(self, *args, host, port, **options):
        parent = os.getppid()
        bin_dir = os.path.dirname(sys.executable)
        children = [
            subprocess.Popen([os.path.join(bin_dir, "celery"), "-A", "mso_eval", "worker",
                              "--beat", "--queues", "celery,reports", "--loglevel=INFO",
                              "--concurrency=2"]),  # fmt: skip
            subprocess.Popen([sys.executable, "manage.py", "runserver", "--noreload",
                              f"{host}:{port}"]),  # fmt: skip
        ]
        stopping = []
        for number in STOP_SIGNALS:
            signal.signal(number, lambda signum, frame: stopping.append(signum))
        url = f"http://{host}:{port}/"
        shown = False
        try:
            while not stopping:
                if os.getppid() != parent:
                    break  # whoever started us is gone
                if any(child.poll() is not None for child in children):
                    break  # the server or the worker ended: stop the other too
                if not shown and _answers(url + "healthz"):
                    shown = True
                    logins = demo_users()
                    self.stdout.write(f"\nMSO Evaluator is running at {url}  (Ctrl-C stops it)")
                    self.stdout.write("Demo logins (new passwords on every run):")
                    for username, password in logins:
                        self.stdout.write(f"  {username:<12}password: {password}")
                    self.stdout.write("")
                time.sleep(0.5)
        finally:
            _stop(children)


def _answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own server
            return response.status < 500
    except OSError:
        return False


def _stop(children):
    """SIGTERM each child, then SIGKILL whatever still runs after the grace period."""
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + GRACE_SECONDS
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()

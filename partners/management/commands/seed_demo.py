"""Load invented demo data, and optionally create demo logins.

The same --scale, --seed and --as-of always give the same data; --as-of
defaults to the first day of the current month, so the data ends "recently"
and stays the same for a whole month. ``--scale large`` is the scale of the
product brief (10 million responses): a few minutes on PostgreSQL.
"""

import datetime
import secrets
import time

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from partners import demo
from partners.models import MSO, ConsultantProfile
from partners.roles import CONSULTANT, DATA_ADMIN, SURGEON, roles_sync

DEMO_USERS = [("surgeon", SURGEON, False), ("consultant", CONSULTANT, False),
              ("dataadmin", DATA_ADMIN, True)]  # fmt: skip
# How the demo consultant signs reports: an invented person and firm.
DEMO_CONSULTANT = {"display_name": "Dana Whitfield", "firm": "Harborline Practice Advisors"}


class Command(BaseCommand):
    help = "Load invented demo MSOs, practices, survey responses and interviews."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(demo.SCALES), default="demo")
        parser.add_argument(
            "--seed", type=int, default=1, help="The same seed and --as-of give the same data."
        )
        parser.add_argument(
            "--as-of",
            dest="as_of",
            help="Day the data ends (YYYY-MM-DD); default: first day of the current month.",
        )
        parser.add_argument(
            "--responses",
            type=int,
            help="Override the scale's number of survey responses (e.g. the large scale's "
            "MSOs and practices with 1,000,000 responses, to compare read times).",
        )
        parser.add_argument(
            "--with-demo-users",
            action="store_true",
            help="Create or update the surgeon, consultant and dataadmin logins.",
        )
        parser.add_argument(
            "--reset", action="store_true", help="Delete all evidence first (benchmarks stay)."
        )

    def handle(self, *args, scale="demo", seed=1, as_of=None, responses=None,
               with_demo_users=False, reset=False, **options):  # fmt: skip
        # call_command() passes keyword options without argparse, so check them here.
        if scale not in demo.SCALES:
            raise CommandError(f"Unknown scale {scale!r}; choose {', '.join(demo.SCALES)}.")
        if responses is not None and int(responses) < 0:
            raise CommandError("--responses cannot be negative.")
        as_of = parse_as_of(as_of)
        if as_of > timezone.localdate() + datetime.timedelta(days=1):
            # The responses end the day before as-of, and the survey import (which loads
            # them on SQLite) refuses dates in the future, as it would for any file.
            raise CommandError(f"--as-of {as_of} is in the future; the data ends the day before.")
        started = time.monotonic()

        if MSO.objects.exists() and not reset:
            self.stdout.write("Demo data already loaded; use --reset to replace it.")
        else:
            with transaction.atomic():
                if reset:
                    try:
                        demo.delete_evidence()
                    except ProtectedError as exc:
                        kinds = sorted({str(o._meta.verbose_name_plural)
                                        for o in exc.protected_objects})  # fmt: skip
                        raise CommandError(
                            f"Cannot reset: stored {', '.join(kinds)} refer to the MSOs and are "
                            "never deleted with them. Nothing was changed. To start over, use a "
                            "new database (with make run: delete the var folder)."
                        ) from exc
                counts = demo.load(
                    scale, int(seed), as_of, responses=None if responses is None else int(responses)
                )
            summary = ", ".join(f"{count:,} {name}" for name, count in counts.items())
            self.stdout.write(
                f"Loaded demo data (scale {scale}, seed {seed}, as of {as_of}): {summary} "
                f"in {time.monotonic() - started:.1f} s."
            )

        if with_demo_users:
            self.stdout.write("Demo logins (new passwords on every run):")
            for username, password in demo_users():
                self.stdout.write(f"  {username:<12}password: {password}")


def parse_as_of(value):
    if value is None:
        return timezone.localdate().replace(day=1)
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--as-of must be a date like 2026-06-01, not {value!r}.") from exc


def demo_users():
    """Create or update the demo logins, each with a fresh random password."""
    groups = roles_sync()  # the groups exist after migrate; this makes sure
    logins = []
    with transaction.atomic():
        for username, role, is_staff in DEMO_USERS:
            user, _ = User.objects.get_or_create(username=username)
            password = secrets.token_urlsafe(9)
            user.set_password(password)
            user.is_staff = is_staff
            user.is_active = True
            user.save()
            user.groups.add(groups[role])
            if role == CONSULTANT:
                ConsultantProfile.objects.update_or_create(user=user, defaults=DEMO_CONSULTANT)
            logins.append((username, password))
    return logins

import datetime

from django.core.management.base import BaseCommand, CommandError

from scorecards.services import (
    NoPublishedMethodology,
    scorecard_compute,
    scorecards_recompute_now,
)


class Command(BaseCommand):
    help = (
        "Compute a scorecard snapshot of all published MSOs. By default a worker does it "
        "(queued now); --sync computes it here and waits."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sync", action="store_true", help="Compute in this process.")
        parser.add_argument(
            "--as-of", type=datetime.date.fromisoformat,
            help="Data-as-of date, YYYY-MM-DD (with --sync; default today).",
        )  # fmt: skip

    def handle(self, *args, sync, as_of, **options):
        if not sync:
            if as_of:
                raise CommandError("--as-of needs --sync.", returncode=2)
            job = scorecards_recompute_now()
            self.stdout.write(f"Queued job #{job.pk}; a worker will compute the snapshot.")
            return
        try:
            snapshot, created = scorecard_compute(as_of=as_of)
        except NoPublishedMethodology as exc:
            raise CommandError(str(exc)) from exc
        if created:
            self.stdout.write(self.style.SUCCESS(
                f"Computed snapshot #{snapshot.pk} (data as of {snapshot.data_as_of}, "
                f"{snapshot.query_count} queries)."
            ))  # fmt: skip
        else:
            self.stdout.write(
                f"Nothing changed since snapshot #{snapshot.pk}; no new snapshot."
            )

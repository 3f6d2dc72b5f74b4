"""Render a consultant report to a PDF file, synchronously (no worker needed).

    python manage.py render_report --msos SLUG,SLUG[,...] --out FILE.pdf [--snapshot ID]
        [--client NAME] [--weights key=N,...] [--paper letter|a4] [--prepared-by NAME]

Exit status 0 when the file is written, 1 with a message naming the problem otherwise
(an unknown slug, fewer than 2 or more than 12 MSOs, weights not adding up to 100, no
snapshot). Nothing is stored in the database.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from scorecards.models import CRITERION_CHOICES, PaperSize, ScorecardSnapshot
from scorecards.reports.render import report_pdf
from scorecards.reports.services import NO_SNAPSHOT, ReportRefused, report_build


def parse_weights(text, methodology_weights):
    """'key=N,key=N' -> weights: the methodology's, with the given ones replaced."""
    weights = dict(methodology_weights)
    known = dict(CRITERION_CHOICES)
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in known:
            raise CommandError(f"--weights: {item!r} is not criterion=number; criteria: "
                               + ", ".join(known))  # fmt: skip
        if not value.strip().isdigit():
            raise CommandError(f"--weights: the weight of {key} must be a whole number.")
        weights[key] = int(value)
    return weights


class Command(BaseCommand):
    help = "Render a consultant report (2 to 12 MSOs) to a PDF file."

    def add_arguments(self, parser):
        parser.add_argument("--msos", required=True, help="Comma-separated MSO slugs.")
        parser.add_argument("--out", required=True, help="The PDF file to write.")
        parser.add_argument("--snapshot", type=int, help="Snapshot id (default: the latest).")
        parser.add_argument("--client", default="Client", help="The client's name.")
        parser.add_argument("--weights", default="", help="criterion=N,... (sum 100).")
        parser.add_argument("--paper", choices=PaperSize.values, default=PaperSize.LETTER)
        parser.add_argument("--prepared-by", default="MSO Evaluator",
                            help="The name on the cover.")
        parser.add_argument("--firm", default="", help="The firm on the cover.")

    def handle(self, *args, msos, out, snapshot, client, weights, paper, prepared_by, firm,
               **kw):  # fmt: skip
        snapshots = ScorecardSnapshot.objects.select_related("methodology")
        chosen = snapshots.filter(pk=snapshot).first() if snapshot else snapshots.first()
        if chosen is None:
            raise CommandError(f"No snapshot #{snapshot}." if snapshot else NO_SNAPSHOT)
        slugs = [s.strip() for s in msos.split(",") if s.strip()]
        try:
            report = report_build(
                client_name=client, prepared_by=prepared_by, firm=firm, snapshot=chosen,
                slugs=slugs,
                weights=parse_weights(weights, chosen.methodology.weights()), paper=paper,
            )  # fmt: skip
        except ReportRefused as exc:
            raise CommandError(str(exc)) from None
        pdf, pages = report_pdf(report)
        Path(out).write_bytes(pdf)
        self.stdout.write(f"Wrote {out}: {pages} pages, {len(pdf):,} bytes, snapshot "
                          f"#{chosen.pk}.")  # fmt: skip

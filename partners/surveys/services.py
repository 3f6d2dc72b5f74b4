"""The survey upload pages' jobs and the columns saved between uploads.

Each job's payload is ``{"upload": token, "file_name", "source", "user_id", "mapping"}`` (an
undo's is ``{"imports": [id, ...]}``): never the file's contents, which hold patients'
comments. A task takes the job's id and calls one of these (``partners.tasks``).
"""

import logging
import os
from dataclasses import asdict

from django.contrib.auth import get_user_model

from ..csvfiles import ImportRefused, LineError
from ..jobs import JobError, JobProgress, job_progress
from ..models import SurveyImport, SurveyMapping
from ..uploads import UPLOAD_EXPIRED, upload_discard, upload_open
from .formats import PLAIN, Mapping
from .importing import survey_import_undo, surveys_import

logger = logging.getLogger(__name__)



def survey_report_as_json(report):
    """A SurveyImportReport as JSON for ``Job.result``: dates as ISO strings."""
    data = asdict(report)
    for name in ("first_day", "last_day"):
        data[name] = data[name].isoformat() if data[name] else None
    return {**data, "nps": report.nps, "summary": report.summary()}


def survey_file_check(job):
    """The preview: check the staged file of the job and describe it; nothing is written."""
    return _survey_file(job, dry_run=True)


def survey_file_import(job):
    """Import the staged file of the job, whose preview the data admin has seen."""
    return _survey_file(job, dry_run=False)


def _survey_file(job, *, dry_run):
    payload = job.payload
    user = get_user_model().objects.filter(pk=payload.get("user_id")).first()
    try:
        stream = upload_open(token=payload["upload"])
    except FileNotFoundError:
        raise ImportRefused([LineError(0, UPLOAD_EXPIRED)]) from None
    job_progress(job, percent=0, message="Reading the file")
    progress = JobProgress(job.pk, total=os.fstat(stream.fileno()).st_size,
                           read_share=JobProgress.read_share_for(dry_run=dry_run))  # fmt: skip
    keep = False
    mapping = Mapping.from_dict(payload["mapping"]) if payload.get("mapping") else None
    try:
        with stream:
            report = surveys_import(
                stream=stream, file_name=payload["file_name"], source=payload["source"],
                user=user, dry_run=dry_run, progress=progress, on_stage=progress.stage,
                mapping=mapping,
            )  # fmt: skip
        keep = dry_run  # a file that passed its check waits for the confirmation
        if not dry_run and report.format != PLAIN.key:
            survey_mapping_save(layout=report.layout, user=user)
    finally:
        if not keep:
            # Imported (confirming twice cannot import twice) or refused (it must be
            # uploaded again): either way the patients' comments leave the disk now.
            upload_discard(token=payload["upload"])
    return survey_report_as_json(report)


def survey_mapping_save(*, layout, user=None):
    """Keep the columns an export was imported with, for the practice (or for files with a
    practice column) and the tool, to offer them on the next upload. Names only."""
    SurveyMapping.objects.update_or_create(
        tool=layout["format"], practice_id=layout.get("practice_id"),
        defaults={
            "score_column": layout["score_column"], "date_column": layout["date_column"],
            "id_column": layout["id_column"], "practice_column": layout["practice_column"],
            "time_zone": layout["zone"],
            "saved_by": user if user is not None and user.is_authenticated else None,
        },
    )  # fmt: skip


def survey_mapping_offered(*, tool, practice_id=None):
    """The mapping saved for the tool and practice (None: files with a practice column)."""
    return (SurveyMapping.objects.filter(tool=tool, practice_id=practice_id)
            .select_related("saved_by").first())  # fmt: skip


def survey_imports_undo(job):
    """Undo the imports of the job, each in its own transaction, so that the page shows which
    one is being undone. An import undone meanwhile (by another job or the command) is listed
    as missing; the others are still undone."""
    ids = job.payload["imports"]
    undone, missing = [], []
    for done, pk in enumerate(ids):
        job_progress(job, percent=done * 100 // len(ids),
                     message=f"Undoing import #{pk} ({done + 1} of {len(ids)})")  # fmt: skip
        try:
            undone.append(asdict(survey_import_undo(survey_import_id=pk)))
        except SurveyImport.DoesNotExist:
            missing.append(pk)
        except Exception as exc:
            if not undone:
                raise
            # The failed import was rolled back; the ones before it stay undone: say which.
            logger.exception("undo of import %s failed", pk)
            done_ids = ", ".join(f"#{u['survey_import_id']}" for u in undone)
            raise JobError(f"undoing import #{pk} failed ({exc.__class__.__name__}); "
                           f"{done_ids} had been undone before it") from exc  # fmt: skip
    return {"undone": undone, "missing": missing}

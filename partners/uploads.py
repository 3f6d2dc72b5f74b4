"""Staged uploads: a file checked in a preview waits on disk until the import is confirmed."""

import datetime
import re
import secrets
from pathlib import Path

from django.conf import settings
from django.core.files.move import file_move_safe
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.utils import timezone

_UPLOAD_TOKEN = re.compile(r"^[0-9a-f]{32}$")
UPLOAD_EXPIRED = "That upload has expired; please upload the file again."
UPLOAD_CHUNK = 1 << 20


def _upload_path(token):
    if not _UPLOAD_TOKEN.match(token or ""):
        raise FileNotFoundError("unknown upload")
    return Path(settings.MEDIA_ROOT) / "uploads" / f"{token}.csv"


def upload_max_age():
    """How long the staged file of a preview that was never confirmed is kept."""
    return datetime.timedelta(hours=settings.UPLOAD_PREVIEW_HOURS)


def uploads_sweep(*, now=None) -> int:
    """Delete the staged files older than ``upload_max_age()``: previews never confirmed
    (confirmed, refused and undone ones are deleted at once). Returns how many files went.
    The worker's beat runs it (CELERY_BEAT_SCHEDULE)."""
    folder = Path(settings.MEDIA_ROOT) / "uploads"
    if not folder.is_dir():
        return 0
    cutoff = ((now or timezone.now()) - upload_max_age()).timestamp()
    removed = 0
    for old in folder.iterdir():
        if old.suffix not in (".csv", ".name", ".part"):
            continue
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
                removed += 1
        except FileNotFoundError:
            pass  # another process dropped it first
    return removed


def _upload_folder_ready(folder):
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)


# --- The size limit --------------------------------------------------------------------------


def upload_limit_bytes():
    return settings.UPLOAD_MAX_MB * 1024 * 1024


def upload_too_large_message(size=None):
    limit = f"{settings.UPLOAD_MAX_MB:,} MB"
    if size is None:
        return f"The file is larger than the upload limit of {limit} (UPLOAD_MAX_MB)."
    return (f"The file is {size / 1024 / 1024:,.1f} MB, larger than the upload limit of {limit} "
            "(UPLOAD_MAX_MB); nothing was kept. Split it, or ask for a higher limit.")


class SizeLimitUploadHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: a file that grows past UPLOAD_MAX_MB is skipped while it
    arrives, so no byte of it past the limit is ever written (the partial temporary file is
    closed, which deletes it). The refusal is noted on the request; see
    ``upload_refusals_to_form``."""

    def new_file(self, field_name, *args, **kwargs):
        super().new_file(field_name, *args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > upload_limit_bytes():
            refused = getattr(self.request, "uploads_too_large", {})
            refused[self.field_name] = self.received
            self.request.uploads_too_large = refused
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None


def upload_refusals_to_form(request, form):
    """Put "too large" on the file fields of ``form`` whose upload was skipped for its size;
    call it after ``form.is_valid()`` failed or before showing the form."""
    for field, _ in getattr(request, "uploads_too_large", {}).items():
        if field in form.fields:
            form.errors.pop(field, None)
            form.add_error(field, upload_too_large_message())


def upload_stage(*, data: bytes) -> str:
    token = secrets.token_hex(16)
    path = _upload_path(token)
    _upload_folder_ready(path.parent)
    path.write_bytes(data)
    return token


def _chunks(fileobj):
    if hasattr(fileobj, "chunks"):
        yield from fileobj.chunks(UPLOAD_CHUNK)
        return
    while chunk := fileobj.read(UPLOAD_CHUNK):
        yield chunk


def upload_stage_file(*, fileobj, file_name: str = "") -> str:
    """Stage an uploaded file, keeping its original name; return its token.

    The file is streamed to disk in chunks, never read whole, so a file of gigabytes costs
    no memory. A file Django has already spooled to a temporary file is moved instead,
    which on the same filesystem copies nothing at all.
    """
    token = secrets.token_hex(16)
    path = _upload_path(token)
    _upload_folder_ready(path.parent)
    partial = path.with_suffix(".part")
    temporary = getattr(fileobj, "temporary_file_path", None)
    if temporary:
        file_move_safe(temporary(), partial)
    else:
        with open(partial, "wb") as out:
            for chunk in _chunks(fileobj):
                out.write(chunk)
    partial.chmod(0o600)  # patients' comments: for the app's own user only
    name = Path(file_name or getattr(fileobj, "name", None) or "upload.csv").name
    path.with_suffix(".name").write_text(name, encoding="utf-8")
    partial.replace(path)  # only a complete file is ever seen under its token
    return token


def upload_read(*, token: str) -> bytes:
    return _upload_path(token).read_bytes()


def upload_open(*, token: str):
    """The staged file as a binary stream; FileNotFoundError once it expired."""
    return _upload_path(token).open("rb")


def upload_exists(*, token: str) -> bool:
    try:
        return _upload_path(token).is_file()
    except FileNotFoundError:
        return False


def upload_file_name(*, token: str) -> str:
    """The name the file had on the data admin's computer."""
    return _upload_path(token).with_suffix(".name").read_text(encoding="utf-8")


def upload_discard(*, token: str):
    path = _upload_path(token)
    path.unlink(missing_ok=True)
    path.with_suffix(".name").unlink(missing_ok=True)

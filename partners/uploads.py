"""Staged uploads: a file checked in a preview waits on disk until the import is confirmed."""

import datetime
import re
import secrets
from pathlib import Path

from django.conf import settings
from django.core.files.move import file_move_safe
from django.utils import timezone

_UPLOAD_TOKEN = re.compile(r"^[0-9a-f]{32}$")
UPLOAD_EXPIRED = "That upload has expired; please upload the file again."
UPLOAD_CHUNK = 1 << 20


def _upload_path(token):
    if not _UPLOAD_TOKEN.match(token or ""):
        raise FileNotFoundError("unknown upload")
    return Path(settings.MEDIA_ROOT) / "uploads" / f"{token}.csv"


UPLOAD_MAX_AGE = datetime.timedelta(days=1)


def _upload_folder_ready(folder):
    folder.mkdir(parents=True, exist_ok=True)
    # Previews that were never confirmed are dropped after a day.
    cutoff = (timezone.now() - UPLOAD_MAX_AGE).timestamp()
    for old in folder.iterdir():
        if old.suffix not in (".csv", ".name", ".part"):
            continue
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)
        except FileNotFoundError:
            pass  # another process dropped it first


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

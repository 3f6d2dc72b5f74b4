"""Hostile survey files are refused at once, with the limit named, and never make a process
grow: a header of very many columns, a line of millions of fields, a workbook that expands to
far more than its size. Each goes through the upload page (which reads the file's head in the
web process) and the check job (the worker's reading), and the Python memory either takes at
its peak is asserted (tracemalloc: what the reading allocates, whatever else the process holds).
"""

import io
import tracemalloc
import zipfile

import openpyxl
import pytest
from django.urls import reverse

from partners.models import Job, JobStatus, SurveyImport, SurveyResponse
from partners.surveys import reading

from ..conftest import run_jobs
from .factories import affiliate, make_mso, make_practice

pytestmark = pytest.mark.django_db

UPLOAD = reverse("survey_upload")
MB = 1 << 20


@pytest.fixture
def practice(db):
    practice = make_practice("P-1")
    affiliate(practice, make_mso())
    return practice


def _upload(client, data, name="survey.csv"):
    file = io.BytesIO(data)
    file.name = name
    return client.post(UPLOAD, {"file": file, "source": "Press Ganey"})


def _refusal(client, queued, data, name="survey.csv"):
    """Upload ``data`` and run what the worker would; return (message, peak MB): the message
    shown, by the upload form or by the failed check job, and the peak of the Python memory
    allocated while the web request and the job ran."""
    tracemalloc.start()
    try:
        response = _upload(client, data, name)
        if response.status_code == 302:
            run_jobs(queued)
        peak = tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()
    if response.status_code == 302:
        job = Job.objects.get()
        message = job.error if job.status == JobStatus.FAILED else f"the job {job.status}"
    else:
        assert response.status_code == 200
        message = " ".join(str(e) for e in response.context["form"].errors.get("file", []))
    assert not SurveyResponse.objects.exists() and not SurveyImport.objects.exists()
    return message, peak


def test_a_header_of_very_many_columns_is_refused_at_once(client, data_admin, practice, queued):
    columns = 60_000
    names = ["practice", "responded_on", "score", *(f"q{i}" for i in range(3, columns))]
    header = ",".join(names).encode()
    rows = b"".join(b"P-1,2024-01-05,9" + b"," * (columns - 3) + b"\n" for _ in range(100))
    client.force_login(data_admin)
    message, peak = _refusal(client, queued, header + b"\n" + rows)
    # The file itself is 6 MB; its sample rows read as lists of cells took hundreds.
    assert peak < 40, f"{peak:.0f} MB"
    assert "line 1: the header has 60,000 columns; a survey file may have at most 2,000" in (
        message
    )


def test_a_line_of_millions_of_fields_is_refused_at_once(client, data_admin, practice, queued):
    data = b"practice,responded_on,score\nP-1,2024-01-05,9\n" + b"," * 8_000_000 + b"\n"
    client.force_login(data_admin)
    message, peak = _refusal(client, queued, data)
    assert peak < 40, f"{peak:.0f} MB"
    assert "line 3: this line is longer than 1,000,000 characters" in message


def test_a_line_just_under_the_limit_is_read(practice):
    """The limit is on a line, not on the file: a long comment within it is one cell."""
    comment = "x" * 120_000
    data = f"practice,responded_on,score,comment\nP-1,2024-01-05,9,{comment}\n".encode()
    table = reading.table_open(io.BytesIO(data))
    assert list(table.reader)[1][3] == comment


def _workbook(rows):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["practice", "responded_on", "score"])
    for _ in range(rows):
        sheet.append(["P-1", "2024-01-05", 9])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_workbook_that_expands_past_the_limit_is_refused_unopened(
        client, data_admin, practice, queued, monkeypatch):  # fmt: skip
    """A "zip bomb" is a small file whose sheet unzips to gigabytes; here the limit is lowered
    so that a small workbook stands for one (its sheet unzips to about 30 times its size)."""
    data = _workbook(100_000)
    expanded = sum(p.file_size for p in zipfile.ZipFile(io.BytesIO(data)).infolist())
    assert expanded > 10 * len(data)
    monkeypatch.setattr(reading, "XLSX_MAX_EXPANDED", expanded - 1)
    opened = []
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: opened.append(1))
    client.force_login(data_admin)
    message, _peak = _refusal(client, queued, data, name="survey.xlsx")
    assert f"The workbook would expand to {expanded / MB:,.0f} MB once opened" in message
    assert "Save its first sheet as CSV UTF-8" in message
    assert not opened


def test_a_workbook_within_the_limits_is_read(practice):
    table = reading.table_open(io.BytesIO(_workbook(3)))
    try:
        assert [v for v in table.reader][1] == ["P-1", "2024-01-05", "9"]
    finally:
        table.close()


def test_a_part_that_unzips_past_its_declared_size_stops_there():
    """The expansion check trusts the sizes the zip directory declares: a part that lies
    (declares 1 KB, inflates to 64 MB) is read only up to its declared size, then refused.
    Read as a parser reads it, a block at a time: a single unbounded read() would inflate
    the whole compressed part before cutting it to size."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/worksheets/sheet1.xml", b"<row/>" * (64 * MB // 6))
    data = bytearray(out.getvalue())
    for signature, at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local, central headers
        start = data.find(signature)
        data[start + at:start + at + 4] = (1024).to_bytes(4, "little")
    part = zipfile.ZipFile(io.BytesIO(bytes(data))).open("xl/worksheets/sheet1.xml")
    tracemalloc.start()
    try:
        with pytest.raises(zipfile.BadZipFile, match="Bad CRC-32"):
            while part.read(1 << 16):
                pass
        peak = tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()
    assert part._left == 0 and peak < 2, f"{peak:.1f} MB"  # the declared 1 KB, no more

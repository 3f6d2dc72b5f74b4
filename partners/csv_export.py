"""Writing CSV for people to open in a spreadsheet, safe from formula injection.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and
some do after a leading tab or carriage return), so an MSO named ``=cmd|' /C calc'!A0``
would run a command on the reader's computer. As the OWASP advice on CSV injection says,
such a text cell is written with a leading single quote, which the spreadsheet shows as
text. Numbers stay numbers (−3.5 is a figure, not a formula). JSON exports are exact and
do not go through here.

Every CSV export writes through ``csv_export_writer``.
"""

import csv

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe_cell(value):
    """The cell as written: text that a spreadsheet would run gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _SafeWriter:
    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row):
        return self._writer.writerow([csv_safe_cell(v) for v in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def csv_export_writer(stream, **options):
    """A ``csv.writer`` on ``stream`` whose cells go through ``csv_safe_cell``."""
    return _SafeWriter(csv.writer(stream, **options))

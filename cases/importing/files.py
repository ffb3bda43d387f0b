"""Reading an uploaded file into a table: its header row and its data rows, numbered as the
spreadsheet shows them."""

import csv
import io
import zipfile
from dataclasses import dataclass

import openpyxl
from django.utils.translation import gettext as _

from .cells import cell_text, is_blank
from .columns import guess_mapping
from .errors import ImportFileError

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_COLUMNS = 60
# An XLSX is a zip: 5 MB of it can unpack to gigabytes. 5000 rows of 60 columns need far less.
MAX_XLSX_UNPACKED_BYTES = 200 * 1024 * 1024
# A title or a note may stand above the header row; it is looked for among the first rows.
HEADER_SEARCH_ROWS = 10


@dataclass
class Table:
    kind: str
    headers: list  # the header row's texts, one per column ("" for an unnamed column)
    rows: list  # (row number as the spreadsheet shows it, [cell values])

    def column_label(self, index):
        return self.headers[index] or _("Column %(letter)s") % {"letter": column_letter(index)}


def column_letter(index):
    """0 → A, 25 → Z, 26 → AA: how a spreadsheet names its columns."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def file_kind(name, content):
    """ "csv" or "xlsx" from the name, checked against the content; ImportFileError otherwise."""
    suffix = name.rsplit(".", 1)[-1].casefold() if "." in name else ""
    if suffix == "xls" or content.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(_("Old Excel files (.xls) cannot be read: save the file as .xlsx or .csv."))
    if suffix == "xlsx" and content.startswith(b"PK\x03\x04"):
        return "xlsx"
    if suffix in ("csv", "txt") and not content.startswith(b"PK\x03\x04") and b"\x00" not in content[:4096]:
        return "csv"
    raise ImportFileError(_("Upload a .csv or .xlsx file."))


def read_table(content, name, *, sheet=""):
    """The header row and data rows of an uploaded file (ImportFileError if unusable)."""
    if not content:
        raise ImportFileError(_("The file is empty."))
    if len(content) > MAX_FILE_BYTES:
        raise ImportFileError(
            _("The file is larger than %(mb)s MB: split it into smaller files.") % {"mb": MAX_FILE_BYTES // 2**20}
        )
    kind = file_kind(name, content)
    if kind == "xlsx":
        raw_rows = _xlsx_rows(content, sheet)
    else:
        raw_rows = _csv_rows(content)
    return _table(kind, raw_rows)


def _decode(content):
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Excel on Windows saves "CSV" in the system's code page, not UTF-8.
        return content.decode("cp1252")
    except UnicodeDecodeError:
        raise ImportFileError(_("The file is not readable text: save it as CSV UTF-8.")) from None


def _csv_rows(content):
    text = _decode(content)
    first_lines = [line for line in text.splitlines()[:50] if line.strip()][:HEADER_SEARCH_ROWS] or [""]
    # Excel in Indonesian (and most of Europe) separates CSV columns with semicolons. The
    # header row has the most separators of the first lines (a title above it has none).
    delimiter = max((",", ";", "\t"), key=lambda d: max(line.count(d) for line in first_lines))
    try:
        return _read_rows(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:
        raise ImportFileError(_("The CSV file could not be read: check its quotes and separators.")) from None


def _xlsx_rows(content, sheet):
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
        if unpacked > MAX_XLSX_UNPACKED_BYTES:
            raise ImportFileError(_("The XLSX file could not be read: open it in a spreadsheet and save it again."))
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        raise ImportFileError(
            _("The XLSX file could not be read: open it in a spreadsheet and save it again.")
        ) from None
    try:
        names = list(book.sheetnames)
        if sheet:
            match = next((n for n in names if n.casefold() == sheet.strip().casefold()), None)
            if match is None:
                raise ImportFileError(
                    _("There is no sheet called %(sheet)s. Sheets in this file: %(names)s.")
                    % {"sheet": sheet, "names": ", ".join(names)}
                )
            worksheet = book[match]
        else:
            worksheet = book.worksheets[0]
        # Some programs write a wrong size into the file; read what is really there.
        worksheet.reset_dimensions()
        return _read_rows(worksheet.iter_rows(values_only=True))
    except ImportFileError:
        raise
    except Exception:  # noqa: BLE001 — openpyxl raises many kinds on a damaged file; the user needs one answer
        raise ImportFileError(
            _("The XLSX file could not be read: open it in a spreadsheet and save it again.")
        ) from None
    finally:
        book.close()


def _read_rows(lines):
    """(row number, cells) of the lines that hold something, read until one more than the
    limit allows: blank lines do not count, so none of them can push a client out unseen,
    and a file over the limit is refused (in _table) rather than cut short."""
    rows = []
    for number, cells in enumerate(lines, start=1):
        cells = list(cells[:MAX_COLUMNS])
        if all(is_blank(c) for c in cells):
            continue
        rows.append((number, cells))
        if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS:
            break
    return rows


def _table(kind, rows):
    if not rows:
        raise ImportFileError(_("The file has no rows."))
    header_at = next(
        (i for i, (_n, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]) if len(guess_mapping(_texts(cells))) >= 2), 0
    )
    headers = _texts(rows[header_at][1])
    while headers and not headers[-1]:
        headers.pop()
    data = rows[header_at + 1 :]
    if not data:
        raise ImportFileError(_("The file has a header row but no clients under it."))
    if len(data) > MAX_ROWS:
        raise ImportFileError(
            _("The file has more than %(max)s rows: split it into smaller files.") % {"max": MAX_ROWS}
        )
    return Table(kind=kind, headers=headers, rows=data)


def _texts(cells):
    return [cell_text(c) for c in cells]

"""CSV and XLSX downloads of a report (`?format=csv|xlsx`).

A report view says how its figures lay out as tables (`view.tables(data)`: a list of
(title, header, rows)); CSV carries the first table, XLSX each table on its own sheet.
Cells that a spreadsheet would run as a formula are written as text (CSV injection)."""

import csv
import io

from openpyxl import Workbook
from rest_framework.renderers import BaseRenderer

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _error_tables(data):
    """A refused request (400/403/…) as a one-table download: field, message."""
    rows = []
    if isinstance(data, dict):
        for field, messages in data.items():
            for message in messages if isinstance(messages, list) else [messages]:
                rows.append((field, str(message)))
    else:
        rows.append(("", str(data)))
    return [("errors", ("field", "message"), rows)]


class TableRenderer(BaseRenderer):
    def tables(self, data, renderer_context):
        renderer_context = renderer_context or {}
        view, response = renderer_context.get("view"), renderer_context.get("response")
        request = renderer_context.get("request")
        # Only a report's GET answers its figures: a refusal, or an OPTIONS's description of
        # the view, comes as the one-table download of its fields and messages.
        if (
            response is not None
            and response.status_code >= 400
            or not hasattr(view, "tables")
            or (request is not None and request.method != "GET")
        ):
            return _error_tables(data)
        return view.tables(data)


class CSVRenderer(TableRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        _title, header, rows = self.tables(data, renderer_context)[0]
        out = io.StringIO()
        out.write("\ufeff")  # so that spreadsheet programs read the file as UTF-8
        writer = csv.writer(out)
        writer.writerow([_cell(h) for h in header])
        writer.writerows([_cell(v) for v in row] for row in rows)
        return out.getvalue().encode("utf-8")


class XLSXRenderer(TableRenderer):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        book = Workbook(write_only=True)
        for title, header, rows in self.tables(data, renderer_context):
            sheet = book.create_sheet(title=str(title)[:31])
            sheet.append([_cell(h) for h in header])
            for row in rows:
                sheet.append([_cell(v) for v in row])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

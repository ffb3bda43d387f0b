"""Reading and checking client lists from the spreadsheets groups keep (CSV, XLSX).

The workflow (`workflow.py`: upload, review, the all-or-nothing commit, its progress and the
clean-up) writes; the rest only reads. A file becomes a `Table` (its header row and data rows, numbered as
the spreadsheet shows them); its columns are matched to client fields by their headers in
Bahasa Indonesia or English (`guess_mapping`), which the person importing may correct;
`check_rows` turns every row into the values `client_register` will be given, with the
errors and duplicate warnings of each row. The rules of a valid client are the
registry's own (`client_check_new`); this module only reads cells and looks names up.

Messages name the row, the column and the rule, never a value from the file: they are
stored with the import and may be printed by a command.
"""

from .cells import cell_text, parse_date, parse_nik, parse_phone, parse_sex, parse_status, parse_yes_no
from .columns import FIELDS, FIELDS_BY_NAME, REQUIRED_COLUMNS, guess_mapping, mapping_errors, mapping_with_overrides
from .errors import CellError, ImportFileError
from .files import MAX_FILE_BYTES, MAX_ROWS, Table, column_letter, file_kind, read_table
from .rows import Plan, Row, check_rows
from .workflow import (
    ImportProgress,
    ImportRowError,
    client_import_check,
    client_import_commit,
    client_import_discard,
    client_import_review,
    client_import_run,
    client_import_start,
    client_import_table,
    client_import_upload,
    client_imports_expire,
)

__all__ = [
    "ImportProgress",
    "ImportRowError",
    "client_import_check",
    "client_import_commit",
    "client_import_discard",
    "client_import_review",
    "client_import_run",
    "client_import_start",
    "client_import_table",
    "client_import_upload",
    "client_imports_expire",
    "FIELDS",
    "FIELDS_BY_NAME",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "REQUIRED_COLUMNS",
    "CellError",
    "ImportFileError",
    "Plan",
    "Row",
    "Table",
    "cell_text",
    "check_rows",
    "column_letter",
    "file_kind",
    "guess_mapping",
    "mapping_errors",
    "mapping_with_overrides",
    "parse_date",
    "parse_nik",
    "parse_phone",
    "parse_sex",
    "parse_status",
    "parse_yes_no",
    "read_table",
]

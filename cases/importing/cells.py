"""One cell as the value of a client field: dates in the ways Indonesians write them,
L/P, ya/tidak, phone numbers a spreadsheet stripped of their leading zero."""

import re
from datetime import date, datetime, timedelta

from django.utils.translation import gettext as _

from cases.models import ClientStatus, Sex

from .errors import CellError


def is_blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value):
    """A cell as text: whole numbers without ".0", spaces tidied."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        value = value.strftime("%Y-%m-%d")
    return " ".join(str(value).split())


_SEX = {
    Sex.MALE: {"l", "lk", "laki", "laki laki", "lakilaki", "pria", "m", "male"},
    Sex.FEMALE: {"p", "pr", "perempuan", "wanita", "f", "female"},
}


def parse_sex(value):
    text = re.sub(r"[^a-z]+", " ", cell_text(value).casefold()).strip()
    for sex, words in _SEX.items():
        if text in words:
            return sex
    raise CellError(_("Unknown sex: use L or P (or M or F)."))


_MONTHS = {
    **dict.fromkeys(("jan", "januari", "january"), 1),
    **dict.fromkeys(("feb", "peb", "februari", "pebruari", "february"), 2),
    **dict.fromkeys(("mar", "maret", "march"), 3),
    **dict.fromkeys(("apr", "april"), 4),
    **dict.fromkeys(("mei", "may"), 5),
    **dict.fromkeys(("jun", "juni", "june"), 6),
    **dict.fromkeys(("jul", "juli", "july"), 7),
    **dict.fromkeys(("agu", "agt", "ags", "agustus", "aug", "august"), 8),
    **dict.fromkeys(("sep", "sept", "september"), 9),
    **dict.fromkeys(("okt", "oct", "oktober", "october"), 10),
    **dict.fromkeys(("nov", "nop", "november", "nopember"), 11),
    **dict.fromkeys(("des", "dec", "desember", "december"), 12),
}
# Excel counts days from 30 December 1899. Numbers below 10000 (before 1927) are far more
# likely a year or a typing slip than a birth or diagnosis date.
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_SERIALS = range(10000, 73051)


def parse_date(value):
    """A date from a date cell, an Excel day number, dd/mm/yyyy, yyyy-mm-dd or "17 Agustus 1990"."""
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_serial(value)
    text = cell_text(value).casefold()
    if re.fullmatch(r"\d{5}(\.0+)?", text):
        return _from_serial(float(text))
    if m := re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ t]\d{1,2}:\d{2}(?::\d{2})?)?", text):
        year, month, day = (int(g) for g in m.groups())
    elif m := re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?", text):
        day, month, year = (int(g) for g in m.groups())
        if month > 12 and day <= 12:
            raise CellError(_("This looks like month/day/year: write dates as day/month/year."))
    elif m := re.fullmatch(r"(\d{1,2})[ \-]([a-z]+)\.?[ \-](\d{4})", text):
        day, year = int(m.group(1)), int(m.group(3))
        month = _MONTHS.get(m.group(2))
        if month is None:
            raise CellError(_("Unreadable date: write it as dd/mm/yyyy, e.g. 17/08/1990."))
    else:
        raise CellError(_("Unreadable date: write it as dd/mm/yyyy, e.g. 17/08/1990."))
    try:
        return date(year, month, day)
    except ValueError:
        raise CellError(_("There is no such date.")) from None


def _from_serial(number):
    if int(number) not in _EXCEL_SERIALS:
        raise CellError(_("Unreadable date: write it as dd/mm/yyyy, e.g. 17/08/1990."))
    return _EXCEL_EPOCH + timedelta(days=int(number))


# Indonesian forms tick Y or T (ya / tidak): "t" is "tidak" here, never "true".
_YES = {"ya", "y", "yes", "true", "1", "v", "x", "✓", "√", "setuju", "benar", "hamil"}
_NO = {"", "tidak", "tdk", "t", "no", "n", "false", "0", "-", "tidak setuju", "belum", "bukan"}


def parse_yes_no(value):
    if isinstance(value, bool):
        return value
    text = cell_text(value).casefold().rstrip(".")
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise CellError(_("Write ya or tidak."))


_STATUSES = {
    ClientStatus.ACTIVE: {"", "aktif", "active"},
    ClientStatus.LTFU: {"ltfu", "lfu", "putus berobat", "lost to follow up", "loss to follow up"},
    ClientStatus.TRANSFERRED_OUT: {"pindah", "pindah layanan", "rujuk keluar", "dirujuk keluar", "transferred out"},
    ClientStatus.STOPPED: {"berhenti", "berhenti arv", "stop", "stopped"},
    ClientStatus.DECEASED: {"meninggal", "meninggal dunia", "md", "deceased", "died"},
}


def parse_status(value):
    text = " ".join(re.sub(r"[^\w]+|_", " ", cell_text(value).casefold()).split())
    for status, words in _STATUSES.items():
        if text in words or text == status:
            return status
    raise CellError(_("Unknown status: use aktif, LTFU, pindah, berhenti or meninggal."))


def parse_phone(value):
    text = re.sub(r"[\s\-().']", "", cell_text(value))
    if text.startswith("62"):
        text = "+" + text
    elif text.startswith("8"):
        # A number typed into a spreadsheet cell loses its leading zero: 0812… became 812….
        text = "0" + text
    return text


def parse_nik(value):
    """The NIK's digits; a second value is a warning when Excel may have cut the last digit."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = cell_text(value)
        # Excel keeps 15 significant digits: a NIK typed as a number ends in 0 whatever it was.
        warning = _("The NIK is stored as a number: check its last digit (format the column as text).")
        return text, warning if text.endswith("0") else None
    return re.sub(r"[\s.\-']", "", cell_text(value)), None


def names(value):
    """The names in one cell, separated by commas, semicolons or line breaks."""
    text = "" if value is None else str(value)
    return [n for n in (" ".join(p.split()) for p in re.split(r"[,;\n]", text)) if n]

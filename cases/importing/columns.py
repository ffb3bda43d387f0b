"""Which column holds which client field: headers recognised in Bahasa Indonesia and
English, and the corrections of the person importing."""

import re
from dataclasses import dataclass

from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .errors import ImportFileError


def normalise_header(text):
    """How headers are compared: case, punctuation, underscores and notes in brackets do not count."""
    text = str(text or "").casefold()
    text = re.sub(r"\(.*?\)|\[.*?\]", " ", text)  # "Tanggal lahir (dd/mm/yyyy)"
    text = re.sub(r"[^\w/]+|_", " ", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class ImportField:
    name: str
    label: str
    aliases: tuple


FIELDS = (
    ImportField(
        "full_name",
        gettext_lazy("Full name"),
        ("nama lengkap", "nama", "nama klien", "nama sesuai ktp", "nama odha", "full name", "name"),
    ),
    ImportField(
        "nickname", gettext_lazy("Nickname"), ("nama panggilan", "panggilan", "nama samaran", "alias", "nickname")
    ),
    ImportField("sex", gettext_lazy("Sex"), ("jenis kelamin", "kelamin", "jk", "l/p", "sex", "gender")),
    ImportField(
        "date_of_birth",
        gettext_lazy("Date of birth"),
        ("tanggal lahir", "tgl lahir", "tgl lhr", "date of birth", "birth date", "dob"),
    ),
    ImportField(
        "phone",
        gettext_lazy("Phone"),
        ("no hp", "nomor hp", "hp", "no telp", "no telepon", "nomor telepon", "telepon", "telp", "no wa", "wa")
        + ("whatsapp", "phone", "phone number"),
    ),
    ImportField("address", gettext_lazy("Address"), ("alamat", "alamat domisili", "alamat rumah", "address")),
    ImportField("nik", gettext_lazy("NIK"), ("nik", "no ktp", "nomor ktp", "ktp", "nomor induk kependudukan")),
    ImportField(
        "hiv_diagnosis_date",
        gettext_lazy("HIV diagnosis date"),
        ("tanggal diagnosis", "tgl diagnosis", "tanggal diagnosa", "tgl diagnosa", "tanggal tes hiv")
        + ("tanggal konfirmasi hiv", "diagnosis date", "hiv diagnosis date"),
    ),
    ImportField(
        "art_start_date",
        gettext_lazy("ART start date"),
        ("mulai arv", "tanggal mulai arv", "tgl mulai arv", "mulai art", "tanggal mulai art")
        + ("art start", "art start date"),
    ),
    ImportField(
        "art_facility",
        gettext_lazy("ART facility"),
        ("faskes arv", "fasilitas arv", "layanan arv", "layanan pdp", "tempat akses arv", "art facility"),
    ),
    ImportField("regimen", gettext_lazy("Regimen"), ("regimen", "rejimen", "paduan arv", "obat arv")),
    ImportField("status", gettext_lazy("Status"), ("status", "status klien")),
    ImportField(
        "consent_date",
        gettext_lazy("Consent date"),
        ("tanggal persetujuan", "tgl persetujuan", "tanggal informed consent", "consent date"),
    ),
    ImportField(
        "consent_sms", gettext_lazy("Consents to SMS"), ("setuju sms", "persetujuan sms", "boleh sms", "consent sms")
    ),
    ImportField(
        "consent_share",
        gettext_lazy("Consents to sharing"),
        ("setuju berbagi data", "persetujuan berbagi", "boleh berbagi data", "consent share"),
    ),
    ImportField("pregnant", gettext_lazy("Pregnant"), ("hamil", "sedang hamil", "pregnant")),
    ImportField(
        "support_groups",
        gettext_lazy("Support groups (by name)"),
        ("kelompok", "kelompok dukungan", "kds", "lks", "kds/lks", "support group", "support groups", "group"),
    ),
    ImportField(
        "companion",
        gettext_lazy("Companion (username)"),
        ("pendamping", "username pendamping", "companion"),
    ),
    ImportField(
        "assigned_social_worker",
        gettext_lazy("Social worker (username)"),
        ("pekerja sosial", "peksos", "username pekerja sosial", "social worker", "assigned social worker"),
    ),
)
FIELDS_BY_NAME = {f.name: f for f in FIELDS}
# Each field's own name is an alias too ("full_name" normalises to "full name").
_ALIASES = {normalise_header(a): f.name for f in FIELDS for a in (*f.aliases, f.name)}
# Without these columns no row can be a client; the consent date may come from the form.
REQUIRED_COLUMNS = ("full_name", "sex", "date_of_birth")


def guess_mapping(headers):
    """{column index: field} for the headers this module recognises; each field once."""
    mapping = {}
    for index, header in enumerate(headers):
        name = _ALIASES.get(normalise_header(header))
        if name and name not in mapping.values():
            mapping[index] = name
    return mapping


def mapping_with_overrides(headers, overrides):
    """The guessed mapping corrected by `{header text: field name or ""}` (ImportFileError)."""
    mapping = guess_mapping(headers)
    by_header = {}
    for index, header in enumerate(headers):
        by_header.setdefault(normalise_header(header), []).append(index)
    for header, name in overrides.items():
        indexes = by_header.get(normalise_header(header), [])
        if not indexes:
            raise ImportFileError(_("There is no column %(header)s in the file.") % {"header": header})
        if len(indexes) > 1:
            raise ImportFileError(_("Several columns are called %(header)s.") % {"header": header})
        if name and name not in FIELDS_BY_NAME:
            raise ImportFileError(
                _("Unknown field %(name)s. Fields: %(fields)s.") % {"name": name, "fields": ", ".join(FIELDS_BY_NAME)}
            )
        mapping = {i: f for i, f in mapping.items() if f != name and i != indexes[0]}
        if name:
            mapping[indexes[0]] = name
    return mapping


def mapping_errors(table, mapping, *, consent_date=None):
    """What makes the mapping unusable as a whole: a field twice, a required column missing."""
    errors = []
    seen = {}
    for index, name in sorted(mapping.items()):
        if name in seen:
            errors.append(
                _("Columns %(first)s and %(second)s are both mapped to %(field)s.")
                % {
                    "first": table.column_label(seen[name]),
                    "second": table.column_label(index),
                    "field": capfirst(FIELDS_BY_NAME[name].label),
                }
            )
        seen[name] = index
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            errors.append(_("No column is mapped to %(field)s.") % {"field": capfirst(FIELDS_BY_NAME[name].label)})
    if "consent_date" not in seen and consent_date is None:
        errors.append(_("No column is mapped to the consent date: map one, or give the date everyone consented."))
    return errors

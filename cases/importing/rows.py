"""Every row of a table checked as `client_register` checks a client, with duplicates
marked. No writes, and a handful of queries whatever the number of rows."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from cases.models import Client, Facility, SupportGroup, User, name_key
from cases.security import crypto
from cases.services.registry import client_check_new

from .cells import (
    cell_text,
    names,
    parse_date,
    parse_nik,
    parse_phone,
    parse_sex,
    parse_status,
    parse_yes_no,
)
from .columns import mapping_errors
from .errors import CellError
from .files import Table


@dataclass
class Row:
    number: int
    fields: dict  # what client_register is given (support groups apart)
    support_groups: list
    errors: list = field(default_factory=list)  # (column, message)
    warnings: list = field(default_factory=list)
    duplicate: bool = False
    keys: tuple = ("", "", None)  # NIK hash, name key, birth date


@dataclass
class Plan:
    """Every row of a file checked: what would be created, skipped or refused."""

    table: Table
    mapping: dict
    rows: list
    file_errors: list

    @property
    def error_count(self):
        return len(self.file_errors) + sum(len(r.errors) for r in self.rows)

    @property
    def has_errors(self):
        return bool(self.error_count)

    def errors(self):
        """Every error as stored and shown: row (None for the file), column, message."""
        found = [{"row": None, "column": "", "message": m} for m in self.file_errors]
        found += [{"row": r.number, "column": c, "message": m} for r in self.rows for c, m in r.errors]
        return found

    def warnings(self):
        return [{"row": r.number, "message": m} for r in self.rows for m in r.warnings]

    def to_create(self, *, skip_duplicates):
        return [r for r in self.rows if not (skip_duplicates and r.duplicate)]

    def to_skip(self, *, skip_duplicates):
        return [r for r in self.rows if skip_duplicates and r.duplicate]


class _Lookups:
    """The site's groups, the users and facilities a file names: a query each, for any number of rows."""

    def __init__(self, site, table, mapping):
        columns = {name: index for index, name in mapping.items()}

        def values(name):
            if name not in columns:
                return set()
            return {n.casefold() for _r, cells in table.rows for n in names(_cell(cells, columns[name]))}

        self.groups = {}
        if "support_groups" in columns:
            # "Sahabat Kie Raha" and "KDS Sahabat Kie Raha" are the same group.
            for group in SupportGroup.objects.filter(site=site).only("id", "site_id", "kind", "name"):
                self.groups[" ".join(group.name.split()).casefold()] = group
                self.groups[f"{group.kind} {' '.join(group.name.split())}".casefold()] = group
        usernames = {u.lstrip("@") for u in values("companion") | values("assigned_social_worker")}
        self.users = {}
        if usernames:
            users = User.objects.annotate(lower_username=Lower("username")).filter(
                site=site, lower_username__in=usernames
            )
            self.users = {u.lower_username: u for u in users}
        self.facilities = {}
        if "art_facility" in columns:
            for facility in Facility.objects.filter(Q(site=site) | Q(site__isnull=True)).only("id", "name", "site_id"):
                key = " ".join(facility.name.split()).casefold()
                # Two facilities of one name cannot be told apart by name: None marks it.
                self.facilities[key] = None if key in self.facilities else facility


def _cell(cells, index):
    return cells[index] if index < len(cells) else None


def _parse(name, raw, lookups, row):
    """One cell as the value of client field `name` (CellError if it cannot be)."""
    if name == "sex":
        return parse_sex(raw)
    if name in ("date_of_birth", "hiv_diagnosis_date", "art_start_date", "consent_date"):
        return parse_date(raw)
    if name in ("consent_sms", "consent_share", "pregnant"):
        return parse_yes_no(raw)
    if name == "status":
        return parse_status(raw)
    if name == "phone":
        return parse_phone(raw)
    if name == "nik":
        nik, warning = parse_nik(raw)
        if warning:
            row.warnings.append(warning)
        return nik
    if name == "support_groups":
        groups = []
        for wanted in names(raw):
            group = lookups.groups.get(wanted.casefold())
            if group is None:
                raise CellError(_("No support group called %(name)s at this site.") % {"name": wanted})
            groups.append(group)
        return groups
    if name in ("companion", "assigned_social_worker"):
        username = cell_text(raw).lstrip("@")
        if not username:
            return None
        user = lookups.users.get(username.casefold())
        if user is None:
            raise CellError(_("No user %(username)s at this site.") % {"username": username})
        return user
    if name == "art_facility":
        wanted = cell_text(raw)
        if not wanted:
            return None
        key = wanted.casefold()
        if key not in lookups.facilities:
            raise CellError(_("No facility called %(name)s.") % {"name": wanted})
        if lookups.facilities[key] is None:
            raise CellError(
                _("Several facilities are called %(name)s: choose it on the client's page later.") % {"name": wanted}
            )
        return lookups.facilities[key]
    return cell_text(raw)


def _check_row(*, actor, site, table, mapping, number, cells, consent_date, lookups):
    row = Row(number=number, fields={"site": site}, support_groups=[])
    column_of = {name: table.column_label(index) for index, name in mapping.items()}
    for index, name in mapping.items():
        try:
            value = _parse(name, _cell(cells, index), lookups, row)
        except CellError as e:
            row.errors.append((column_of[name], str(e)))
            continue
        if name == "support_groups":
            row.support_groups = value
        elif value is not None:
            row.fields[name] = value
    if row.fields.get("consent_date") is None and consent_date is not None:
        row.fields["consent_date"] = consent_date
    failed = {c for c, _m in row.errors}
    try:
        client = client_check_new(actor=actor, support_groups=row.support_groups, **row.fields)
    except ValidationError as e:
        for name, messages in _messages(e):
            column = column_of.get(name) or _field_label(name)
            if column in failed:
                continue  # its cell could not be read; "required" would only repeat that
            row.errors.extend((column, m) for m in messages)
        fields = row.fields
        nik, full_name = fields.get("nik") or "", fields.get("full_name") or ""
        row.keys = (crypto.keyed_hash(nik) if nik else "", name_key(full_name), fields.get("date_of_birth"))
    else:
        row.keys = (client.nik_hash, client.name_key, client.date_of_birth)
    return row


def _messages(error):
    """(field, [messages]) of a ValidationError, with "cannot be null" said for a spreadsheet."""
    if not hasattr(error, "error_dict"):
        return [(NON_FIELD_ERRORS, error.messages)]
    found = []
    for name, errors in error.error_dict.items():
        messages = []
        for item in errors:
            if item.code in ("null", "blank", "required"):
                messages.append(_("This cell is empty, and the field is required."))
            else:
                messages.extend(item.messages)
        found.append((name, messages))
    return found


def _field_label(name):
    if name == NON_FIELD_ERRORS:
        return ""
    try:
        return str(Client._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001 — a policy error may name something that is not a field
        return name


def _mark_duplicates(site, rows):
    """Warn of rows that repeat an earlier row or match a client of the site: the same NIK,
    or the same normalised name and birth date (the registry's rule). One query for the file."""
    hashes = {r.keys[0] for r in rows if r.keys[0]}
    names = {r.keys[1] for r in rows if r.keys[1] and r.keys[2]}
    existing_nik, existing_name = {}, {}
    if hashes or names:
        matches = Client.objects.filter(site=site).filter(Q(nik_hash__in=hashes) | Q(name_key__in=names))
        for code, nik_hash, key, born in matches.order_by("code").values_list(
            "code", "nik_hash", "name_key", "date_of_birth"
        ):
            if nik_hash:
                existing_nik.setdefault(nik_hash, code)
            existing_name.setdefault((key, born), code)
    seen_nik, seen_name = {}, {}
    for row in rows:
        nik_hash, key, born = row.keys
        by_name = (key, born) if key and born else None
        if nik_hash and nik_hash in existing_nik:
            row.warnings.append(_("Same NIK as client %(code)s.") % {"code": existing_nik[nik_hash]})
        elif by_name and by_name in existing_name:
            row.warnings.append(_("Same name and date of birth as client %(code)s.") % {"code": existing_name[by_name]})
        elif nik_hash and nik_hash in seen_nik:
            row.warnings.append(_("Same NIK as row %(row)s.") % {"row": seen_nik[nik_hash]})
        elif by_name and by_name in seen_name:
            row.warnings.append(_("Same name and date of birth as row %(row)s.") % {"row": seen_name[by_name]})
        else:
            if nik_hash:
                seen_nik[nik_hash] = row.number
            if by_name:
                seen_name[by_name] = row.number
            continue
        row.duplicate = True


def check_rows(
    *,
    actor,
    site,
    table,
    mapping,
    consent_date=None,
    progress: Callable[[str, int, int], None] | None = None,
):
    """Every row of `table` checked as client_register would check it, with duplicates
    marked; no writes. A handful of queries whatever the number of rows."""
    mapping = {int(i): name for i, name in mapping.items() if name and int(i) < len(table.headers)}
    file_errors = mapping_errors(table, mapping, consent_date=consent_date)
    if file_errors:
        return Plan(table=table, mapping=mapping, rows=[], file_errors=file_errors)
    lookups = _Lookups(site, table, mapping)
    rows = []
    total = len(table.rows)
    for done, (number, cells) in enumerate(table.rows, start=1):
        rows.append(
            _check_row(
                actor=actor,
                site=site,
                table=table,
                mapping=mapping,
                number=number,
                cells=cells,
                consent_date=consent_date,
                lookups=lookups,
            )
        )
        if progress is not None:
            progress("validated", done, total)
    _mark_duplicates(site, rows)
    return Plan(table=table, mapping=mapping, rows=rows, file_errors=[])

"""Import a client list (CSV or XLSX) into a site, all or nothing, as the web page does.

    manage.py import_clients daftar.xlsx --site TTE --as supervisor --dry-run
    manage.py import_clients daftar.csv --site TTE --as supervisor --map "Nama ODHA=full_name" --skip-duplicates

Progress goes to stderr; the report to stdout names rows, columns and client codes, and
shows the first rows without their NIK, phone or address.
"""

from datetime import date
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from cases import access, importing
from cases.exceptions import Conflict
from cases.models import ImportStatus, Site, User

PREVIEW_ROWS = 5
PREVIEW_FIELDS = ("full_name", "nickname", "sex", "date_of_birth", "status", "support_groups", "companion")


class Command(BaseCommand):
    help = "Import clients from a CSV or XLSX file into a site: check every row, then register all or none."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The .csv or .xlsx file.")
        parser.add_argument("--site", required=True, help="Code of the site the clients belong to, e.g. TTE.")
        parser.add_argument(
            "--as", dest="username", required=True, help="Who imports: an admin or a supervisor of the site."
        )
        parser.add_argument("--dry-run", action="store_true", help="Check and report; write nothing.")
        duplicates = parser.add_mutually_exclusive_group()
        duplicates.add_argument(
            "--skip-duplicates", action="store_true", help="Leave out rows that look like duplicates."
        )
        duplicates.add_argument(
            "--import-duplicates",
            action="store_true",
            help="Import rows that look like duplicates, flagged as possible duplicates for a supervisor.",
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="HEADER=FIELD",
            help='Map a column to a client field ("Nama ODHA=full_name"; "Catatan=" ignores a column). Repeatable.',
        )
        parser.add_argument("--sheet", default="", help="The XLSX sheet to read (default: the first).")
        parser.add_argument(
            "--consent-date", help="YYYY-MM-DD: the consent date of rows without one (everyone consented that day)."
        )

    def handle(self, *args, **options):
        actor, site = self._actor_and_site(options["username"], options["site"])
        path = Path(options["file"])
        content = self._read(path)
        consent_date = self._consent_date(options["consent_date"])
        try:
            table = importing.read_table(content, path.name, sheet=options["sheet"])
            mapping = importing.mapping_with_overrides(table.headers, self._overrides(options["map"]))
        except importing.ImportFileError as e:
            raise CommandError(str(e)) from None
        self._print_mapping(table, mapping)
        plan = importing.check_rows(
            actor=actor, site=site, table=table, mapping=mapping, consent_date=consent_date, progress=self._progress
        )
        self._print_plan(plan)
        if plan.has_errors:
            raise CommandError(_("%(count)s errors: nothing was imported.") % {"count": plan.error_count})
        duplicates = sum(r.duplicate for r in plan.rows)
        if duplicates and not (options["skip_duplicates"] or options["import_duplicates"]):
            raise CommandError(
                _("%(count)s rows look like duplicates: choose --skip-duplicates or --import-duplicates.")
                % {"count": duplicates}
            )
        skip = options["skip_duplicates"]
        if options["dry_run"]:
            self.stdout.write(
                _("Dry run: nothing was written. %(create)s clients would be created, %(skip)s rows skipped.")
                % {"create": len(plan.to_create(skip_duplicates=skip)), "skip": len(plan.to_skip(skip_duplicates=skip))}
            )
            return
        self._commit(actor, site, path, content, options["sheet"], mapping, skip, consent_date)

    def _commit(self, actor, site, path, content, sheet, mapping, skip, consent_date):
        # The page's path exactly: the import is recorded, checked again and committed at once.
        try:
            client_import = importing.client_import_upload(
                actor=actor, site=site, file_name=path.name, content=content, sheet=sheet
            )
            importing.client_import_review(
                actor=actor,
                client_import=client_import,
                mapping=mapping,
                skip_duplicates=skip,
                consent_date=consent_date,
            )
            client_import = importing.client_import_start(
                actor=actor, client_import=client_import, inline=True, progress=self._progress
            )
        except (ValidationError, Conflict) as e:
            raise CommandError(" ".join(getattr(e, "messages", [str(e)]))) from None
        if client_import.status != ImportStatus.DONE:
            for error in client_import.errors:
                self.stdout.write(self._error_line(error))
            raise CommandError(_("Nothing was imported."))
        self.stdout.write(
            _("%(count)s clients created: %(codes)s")
            % {"count": client_import.created_count, "codes": ", ".join(client_import.created_codes) or "—"}
        )
        if client_import.skipped_rows:
            self.stdout.write(
                _("%(count)s rows skipped as duplicates: %(rows)s")
                % {"count": client_import.skipped_count, "rows": ", ".join(map(str, client_import.skipped_rows))}
            )

    def _actor_and_site(self, username, code):
        try:
            actor = User.objects.get(username=username, is_active=True)
        except User.DoesNotExist:
            raise CommandError(_("No active user %(username)s.") % {"username": username}) from None
        try:
            site = Site.objects.get(code=code.strip().upper())
        except Site.DoesNotExist:
            raise CommandError(_("No site with code %(code)s.") % {"code": code}) from None
        if not access.may_import_clients_at(actor, site):
            raise CommandError(
                _("%(username)s may not import clients into %(code)s: only admins and the site's supervisors may.")
                % {"username": username, "code": site.code}
            )
        return actor, site

    def _read(self, path):
        try:
            if path.stat().st_size > importing.MAX_FILE_BYTES:
                raise CommandError(
                    _("The file is larger than %(mb)s MB: split it into smaller files.")
                    % {"mb": importing.MAX_FILE_BYTES // 2**20}
                )
            return path.read_bytes()
        except OSError as e:
            raise CommandError(_("Cannot read %(path)s: %(reason)s") % {"path": path, "reason": e.strerror}) from None

    def _consent_date(self, value):
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise CommandError(_("--consent-date must be a date as YYYY-MM-DD.")) from None

    def _overrides(self, pairs):
        overrides = {}
        for pair in pairs:
            header, sep, name = pair.rpartition("=")
            if not sep or not header.strip():
                raise CommandError(_('--map takes "column header=field", e.g. "Nama ODHA=full_name".'))
            overrides[header.strip()] = name.strip().strip("-")
        return overrides

    def _progress(self, stage, done, total):
        step = max(1, total // 10)
        if done != total and done % step:
            return
        if stage == "validated":
            self.stderr.write(_("Checked %(done)s/%(total)s rows") % {"done": done, "total": total})
        else:
            self.stderr.write(_("Saved %(done)s/%(total)s rows") % {"done": done, "total": total})

    def _print_mapping(self, table, mapping):
        for index in range(len(table.headers)):
            name = mapping.get(index)
            target = capfirst(importing.FIELDS_BY_NAME[name].label) if name else _("(ignored)")
            self.stdout.write(f"{table.column_label(index)} → {target}")

    def _print_plan(self, plan):
        for row in plan.rows[:PREVIEW_ROWS]:
            values = [_preview_value(row, name) for name in PREVIEW_FIELDS if name in plan.mapping.values()]
            self.stdout.write(_("Row %(row)s: %(values)s") % {"row": row.number, "values": " · ".join(values)})
        for error in plan.errors():
            self.stdout.write(self._error_line(error))
        for warning in plan.warnings():
            self.stdout.write(_("Row %(row)s: %(values)s") % {"row": warning["row"], "values": warning["message"]})

    def _error_line(self, error):
        where = _("Row %(row)s") % {"row": error["row"]} if error["row"] else _("File")
        column = f", {error['column']}" if error["column"] else ""
        return _("Error: %(where)s: %(message)s") % {"where": f"{where}{column}", "message": error["message"]}


def _preview_value(row, name):
    if name == "support_groups":
        return ", ".join(g.name for g in row.support_groups) or "—"
    value = row.fields.get(name)
    if hasattr(value, "username"):
        return value.username
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value) if value not in (None, "") else "—"

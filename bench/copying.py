"""COPY helpers of bench/generate.py: text-format rows, a progress bar on stderr, and the
site-local clock the generated activity is timed by."""

import io
import sys
import time
from datetime import date, datetime

from django.utils import timezone

DAY = 1440  # minutes: referral and visit times are counted in site-local minutes


class Progress:
    """A progress bar on stderr: redrawn in place on a terminal (at most 5 times a second),
    a line at each quarter otherwise (a log file gets four lines, not thousands)."""

    def __init__(self, label, total):
        self.label, self.total, self.done = label, max(total, 1), 0
        self.started = self.drawn = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.quarter = 0

    def update(self, n=1):
        self.done += n
        if self.tty:
            now = time.monotonic()
            if now - self.drawn >= 0.2:
                self.drawn = now
                self._draw("\r")
        elif self.done * 4 // self.total > self.quarter and self.done < self.total:
            self.quarter = self.done * 4 // self.total
            self._draw("")
            sys.stderr.write("\n")

    def close(self):
        self.done = self.total
        self._draw("\r" if self.tty else "")
        sys.stderr.write("\n")
        sys.stderr.flush()

    def _draw(self, prefix):
        share = min(self.done / self.total, 1.0)
        bar = "#" * int(share * 30)
        elapsed = time.monotonic() - self.started
        sys.stderr.write(
            f"{prefix}{self.label:24} [{bar:30}] {share:4.0%} {self.done:>9,}/{self.total:,} {elapsed:6.1f}s"
        )
        sys.stderr.flush()


def copy_text(value):
    """One value in COPY's text format."""
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


def copy_rows(cursor, table, columns, rows):
    """COPY `rows` (tuples in `columns` order) into `table`, in blocks of text."""
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        block = io.StringIO()
        for n, row in enumerate(rows, 1):
            block.write("\t".join(map(copy_text, row)))
            block.write("\n")
            if n % 50_000 == 0:
                copy.write(block.getvalue())
                block = io.StringIO()
        copy.write(block.getvalue())


def model_defaults(model, columns):
    """The model's other NOT NULL columns that Django fills by itself (a default, or the empty
    string of a text field), with that value: so that a column added to the model later needs
    no change to the generator (Django's defaults live in Python, not in the table)."""
    return {
        field.column: field.get_default()
        for field in model._meta.concrete_fields
        if field.column not in columns and (field.has_default() or (not field.null and field.empty_strings_allowed))
    }


def copy_lines(cursor, table, columns, lines, label=None):
    """COPY pre-formatted text lines (each ending in a newline) into `table`."""
    progress = Progress(label or f"COPY {table}", len(lines))
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for start in range(0, len(lines), 50_000):
            block = lines[start : start + 50_000]
            copy.write("".join(block))
            progress.update(len(block))
    progress.close()


def line(*values):
    return "\t".join(map(copy_text, values)) + "\n"


class Clock:
    """Site-local minutes (ordinal day × 1440 + minute of the day) and their literals."""

    def __init__(self, tz, today):
        offset = tz.utcoffset(datetime(today.year, today.month, today.day))
        hours, rest = divmod(int(offset.total_seconds()) // 60, 60)
        self.suffix = f"{'+' if hours >= 0 else '-'}{abs(hours):02d}:{rest:02d}"
        local_now = timezone.localtime(timezone=tz)
        minute = local_now.hour * 60 + local_now.minute if local_now.date() == today else 12 * 60
        self.now = today.toordinal() * DAY + minute

    def literal(self, minutes):
        day, minute = divmod(minutes, DAY)
        return f"{date.fromordinal(day).isoformat()} {minute // 60:02d}:{minute % 60:02d}:00{self.suffix}"

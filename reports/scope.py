"""The filters every report takes (site, group, worker, period), checked against the
caller's reach: a site, group or worker out of reach is a 400 on that field, like any
unknown id, so the answer does not tell whether it exists."""

import datetime
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases import access as cases_access
from cases.models import Role, Site, SupportGroup, User

MAX_PERIOD_DAYS = 731
EARLIEST_DAY = datetime.date(2000, 1, 1)
LATEST_DAY = datetime.date(2099, 12, 31)
DEFAULT_PERIOD_DAYS = 30


@dataclass(frozen=True)
class Scope:
    site: Site | None  # None: every site (admins only)
    tz: datetime.tzinfo
    today: datetime.date
    start: datetime.date
    end: datetime.date
    group: SupportGroup | None = None
    worker: User | None = None

    @property
    def since(self) -> datetime.datetime:
        """The first instant of the period, site-local."""
        return datetime.datetime.combine(self.start, datetime.time.min, tzinfo=self.tz)

    @property
    def until(self) -> datetime.datetime:
        """The first instant after the period, site-local."""
        return datetime.datetime.combine(self.end + datetime.timedelta(days=1), datetime.time.min, tzinfo=self.tz)

    def narrow(self, queryset, *, site="site", group="support_groups", worker="assigned_social_worker"):
        """`queryset` limited to the scope's site, group and worker, through the given paths
        (a path of None: that filter does not apply to these rows)."""
        for path, value in ((site, self.site), (group, self.group), (worker, self.worker)):
            if value is not None and path is not None:
                queryset = queryset.filter(**{path: value})
        return queryset

    def as_dict(self) -> dict:
        return {
            "site": self.site.pk if self.site else None,
            "group": self.group.pk if self.group else None,
            "worker": self.worker.pk if self.worker else None,
            "period_from": self.start,
            "period_to": self.end,
        }


# The schema states the days the server takes: years 2000 to 2099, EARLIEST_DAY to LATEST_DAY.
@extend_schema_field(
    {"type": "string", "format": "date", "pattern": r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"}
)
class ReportDay(serializers.DateField):
    """A day of a report's period (validated against EARLIEST_DAY and LATEST_DAY below)."""


# A record named by its id: a whole, positive number that fits the database's integer.
@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 2**63 - 1})
class ReportRecord(serializers.PrimaryKeyRelatedField):
    """A site, group or worker; one that does not exist or is out of reach is a 400."""


class PeriodQuery(serializers.Serializer):
    """A report's period: `from` and `to`, days at the site, at most two years apart."""

    # `from` is a Python keyword: the field is declared under it in __init__.
    to = ReportDay(required=False, help_text=gettext_lazy("Last day (site-local), default today."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from"] = ReportDay(
            required=False,
            help_text=gettext_lazy("First day (site-local), default 29 days before `to`."),
        )

    def validate(self, attrs):
        to, start = attrs.get("to"), attrs.get("from")
        for name, day in (("from", start), ("to", to)):
            # Beyond these, the period's first and last instants (and the 12 months of viral
            # loads before its end) fall outside what dates can hold.
            if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
                raise serializers.ValidationError(
                    {name: _("Choose a day from %(first)s to %(last)s.") % {"first": EARLIEST_DAY, "last": LATEST_DAY}}
                )
        if to and start and start > to:
            raise serializers.ValidationError({"from": _("The period must start on or before its end.")})
        if to and start and (to - start).days > MAX_PERIOD_DAYS:
            raise serializers.ValidationError({"from": _("The period can be at most two years.")})
        return attrs


def period(data, today) -> tuple[datetime.date, datetime.date]:
    """The first and last day from a valid PeriodQuery's `data`: by default the 30 days
    up to `today` (the site's); a 400 on `from` when only `to` was given and is too early."""
    end = data.get("to") or today
    start = data.get("from") or end - datetime.timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if start > end:
        raise serializers.ValidationError({"from": _("The period must start on or before its end.")})
    return start, end


class ReportQuery(PeriodQuery):
    site = ReportRecord(
        queryset=Site.objects.none(),
        required=False,
        help_text=gettext_lazy("Admins choose a site (default: every site); others get their own."),
    )
    group = ReportRecord(
        queryset=SupportGroup.objects.none(),
        required=False,
        help_text=gettext_lazy("Only this support group's clients."),
    )
    worker = ReportRecord(
        queryset=User.objects.none(), required=False, help_text=gettext_lazy("Only this social worker's clients.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.context.get("user")
        if user is not None:
            self.fields["site"].queryset = cases_access.sites_visible_to(user)
            self.fields["group"].queryset = cases_access.support_groups_visible_to(user)
            self.fields["worker"].queryset = cases_access.users_visible_to(user).filter(role=Role.SOCIAL_WORKER)


def resolve(user, params, *, as_of_end=False) -> Scope:
    """The scope of a report for `user` from query `params`; a DRF ValidationError (400)
    for a bad filter. A report computed as of its period's end (`as_of_end`: the cascade, the
    WHO indicators) refuses a period that ends after today: its figures would be a forecast
    that changes every day."""
    query = ReportQuery(data=params, context={"user": user})
    query.is_valid(raise_exception=True)
    data = query.validated_data
    site = data.get("site") if cases_access.is_admin(user) else user.site
    group, worker = data.get("group"), data.get("worker")
    if site is not None and group is not None and group.site_id != site.pk:
        raise serializers.ValidationError({"group": _("This group is not at the chosen site.")})
    if site is not None and worker is not None and worker.site_id != site.pk:
        raise serializers.ValidationError({"worker": _("This social worker is not at the chosen site.")})
    tz = site.tzinfo if site is not None else zoneinfo.ZoneInfo(settings.TIME_ZONE)
    today = timezone.localdate(timezone=tz)
    start, end = period(data, today)
    if as_of_end and end > today:
        raise serializers.ValidationError(
            {"to": _("These figures are worked out as of the period's last day: choose a day up to today.")}
        )
    return Scope(site=site, tz=tz, today=today, start=start, end=end, group=group, worker=worker)

"""Every page of the web UI, as every role, in Indonesian: no text left in English.

A page fails when a text node (or a label attribute) it shows is an English msgid of the
catalogues that has an Indonesian translation (a string rendered without translating it),
or the English name of a model field that has none (a label Django made up from the field's
name, e.g. "Assigned social worker").
"""

import datetime
import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as BrowserClient
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import trans_real

from cases import outbox
from cases.arv import services as arv_services
from cases.models import Client, ClientImport, Notification
from casework import services as casework_services
from casework.models import DOMAINS
from empowerment import services as empowerment_services
from offline import urls_pages as offline_pages
from outreach import services as outreach_services
from referrals import links
from referrals import services as referral_services
from referrals import urls as referral_urls
from tests.factories import SiteFactory, csv_bytes, import_row
from transfers import services as transfer_services
from web import urls as web_urls

pytestmark = pytest.mark.django_db

PERSONAS = ["admin_user", "supervisor", "worker", "volunteer", "facility_staff"]
PROJECT_APPS = [
    "cases",
    "referrals",
    "outreach",
    "casework",
    "transfers",
    "reports",
    "interop",
    "fieldsync",
    "offline",
    "web",
]
# The same word in both languages, or a name: not a missed translation.
SAME_IN_BOTH = {"NIK", "Status", "Email", "Kode", "ID", "Username"}
LABEL_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt"}


class Texts(HTMLParser):
    """The text a person reads or hears: text nodes and label attributes; not scripts, not
    code (column names of a download, shown in monospace), not the language menu (each
    language is named in itself there)."""

    def __init__(self):
        super().__init__()
        self.texts, self._skip = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        code = tag in ("code", "kbd", "samp") or "font-monospace" in (attrs.get("class") or "").split()
        if tag in ("script", "style") or code or (tag == "option" and "lang" in attrs):
            self._skip.append(tag)
        for name in LABEL_ATTRIBUTES & set(attrs):
            self.texts.append(attrs[name])

    def handle_endtag(self, tag):
        if self._skip and self._skip[-1] == tag:
            self._skip.pop()

    def handle_data(self, data):
        if not self._skip:
            self.texts.append(data)


def texts_of(html):
    parser = Texts()
    parser.feed(html)
    return {re.sub(r"\s+", " ", t).strip(" *:·") for t in parser.texts} - {""}


def english_msgids():
    """Msgids of every catalogue (Django's and ours) that Indonesian translates differently."""
    catalog = trans_real.translation("id")._catalog
    return {
        msgid
        for msgid, text in catalog.items()
        if isinstance(msgid, str) and msgid and text != msgid and len(msgid) > 2
    }


def untranslated_field_labels():
    """English names of the project's model fields that Indonesian leaves as they are."""
    labels = set()
    for app in PROJECT_APPS:
        for model in apps.get_app_config(app).get_models():
            for field in model._meta.get_fields():
                if not hasattr(field, "verbose_name"):
                    continue
                with translation.override("en"):
                    english = str(field.verbose_name)
                with translation.override("id"):
                    indonesian = str(field.verbose_name)
                if english == indonesian:
                    labels |= {english, capfirst(english)}
    return labels - SAME_IN_BOTH


def choice_codes():
    """Codes of the project's choices (e.g. `high`, `home_visit`) whose label says it otherwise:
    shown as they are, they are English to the reader."""
    codes = set()
    for app in PROJECT_APPS:
        for model in apps.get_app_config(app).get_models():
            for field in model._meta.get_fields():
                for value, label in getattr(field, "flatchoices", None) or ():
                    if isinstance(value, str) and value and value != str(label):
                        codes.add(value)
    return codes - SAME_IN_BOTH


@pytest.fixture
def world(client_a, worker, volunteer, supervisor, group_a1, facility_a, facility_staff, admin_user):
    Client.objects.filter(pk=client_a.pk).update(consent_share=True)
    client_a.refresh_from_db()
    today = timezone.localdate(timezone=client_a.site.tzinfo)
    arv_services.refill_record(
        actor=worker,
        client=client_a,
        facility=facility_a,
        pickup_date=today - datetime.timedelta(days=40),
        days_supplied=30,
    )
    arv_services.viral_load_record(
        actor=worker, client=client_a, sample_date=today - datetime.timedelta(days=20), copies_per_ml=800
    )
    outbox.run_all()
    outreach_services.visit_record(
        actor=worker,
        client=client_a,
        visited_at=timezone.now() - datetime.timedelta(hours=3),
        kind="home_visit",
        plan="Kontrol",
    )
    incident = outreach_services.incident_report(
        actor=volunteer,
        site=client_a.site,
        client=client_a,
        kind="violence",
        urgency="high",
        description="Diusir dari rumah",
    )
    referral = referral_services.referral_create(
        actor=volunteer, client=client_a, to_facility=facility_a, service="vct", reason="Tes ulang", urgency="high"
    )
    referral = referral_services.referral_transition(action="send", referral=referral, actor=volunteer)
    programme = empowerment_services.programme_create(
        actor=supervisor,
        site=supervisor.site,
        kind="economic",
        name="Kelompok Usaha Bersama",
        start_date=today - datetime.timedelta(days=60),
        facilitator=worker,
        support_group=group_a1,
    )
    enrolment = empowerment_services.enrolment_create(
        actor=supervisor, programme=programme, client=client_a, enrolled_on=programme.start_date
    )
    session = empowerment_services.session_record(
        actor=supervisor,
        programme=programme,
        date=today - datetime.timedelta(days=7),
        topic="Pembukuan",
        attendees=[client_a],
    )
    _casework(client_a, worker=worker, volunteer=volunteer, today=today)
    importer = BrowserClient()
    importer.force_login(supervisor)
    importer.post("/clients/import/", {"file": SimpleUploadedFile("daftar.csv", csv_bytes([import_row("Nur Aini")]))})
    assert Notification.objects.exists()
    # A transfer waiting at another site: the supervisor's outgoing, the admin's incoming.
    transfer_services.transfer_request(
        actor=supervisor, client=client_a, to_site=SiteFactory(code="TDR", name="Sentra Tidore"), reason="Pindah"
    )
    return {
        "client": client_a,
        "referral": referral,
        "incident": incident,
        "import": ClientImport.objects.latest("id"),
        "programme": programme,
        "session": session,
        "enrolment": enrolment,
        "tracing": client_a.tracings.first() if hasattr(client_a, "tracings") else None,
    }


def _casework(client, *, worker, volunteer, today):
    """The cycle: assessed, a closure reopened, a plan with an action, a review to sign off."""
    scores = dict.fromkeys(DOMAINS, 2)
    day = today - datetime.timedelta(days=60)
    casework_services.assessment_record(actor=worker, client=client, assessed_on=day, scores=scores)
    casework_services.client_close(actor=worker, client=client, reason="goals_met", closed_on=day, note="Mandiri")
    casework_services.client_reopen(actor=worker, client=client, note="Kembali")
    plan = casework_services.plan_create(actor=worker, client=client)
    goal = casework_services.goal_create(actor=worker, plan=plan, domain="housing", description="Kos aman")
    casework_services.action_create(
        actor=worker, goal=goal, description="Cari kos", owner=volunteer, due_date=today + datetime.timedelta(days=2)
    )
    again = casework_services.assessment_record(
        actor=worker, client=client, assessed_on=today, scores={**scores, "housing": 3}
    )
    casework_services.review_record(actor=worker, client=client, assessment=again, note="Membaik")
    client.refresh_from_db()


def page_paths(world):
    """Each GET page of the web UI, with the ids of `world` filled in."""
    client, referral, notification = world["client"], world["referral"], Notification.objects.first()
    ids = {
        "client-detail": client.pk,
        "client-edit": client.pk,
        "visit-create": client.pk,
        "refill-create": client.pk,
        "client-access-log": client.pk,
        "client-status": client.pk,
        "transfer-request": client.pk,
        "assessment-create": client.pk,
        "client-plan": client.pk,
        "client-close": client.pk,
        "programme-detail": world["programme"].pk,
        "programme-edit": world["programme"].pk,
        "session-create": world["programme"].pk,
        "enrolment-create": world["programme"].pk,
        "session-edit": world["session"].pk,
        "enrolment-outcome": world["enrolment"].pk,
        "client-import": world["import"].pk,
        "referral-detail": referral.pk,
        "referral-slip": referral.pk,
    }
    posts_only = {
        "logout",
        "tracing-claim",
        "client-assign",
        "incident-move",
        "notification-read",
        "referral-act",
        "action-tick",
        "review-sign-off",
        "transfer-accept",
        "transfer-decline",
    }
    paths = {}
    patterns = [
        *web_urls.urlpatterns,
        *referral_urls.page_urlpatterns,
        *offline_pages.urlpatterns,
    ]
    for pattern in patterns:
        name = pattern.name
        if name in posts_only:
            continue
        if name == "referral-link":
            paths[name] = links.path_for(referral)
        elif name == "indicator-clients":
            paths[name] = "/caseload/indicators/HIV.IND.27/"
        elif "pk" in str(pattern.pattern) or "<id:pk>" in str(pattern.pattern):
            paths[name] = "/" + str(pattern.pattern).replace("<id:pk>", str(ids[name])).lstrip("^").rstrip("$")
            paths[name] = re.sub(r"\(\?P<pk>[^)]*\)", str(ids[name]), paths[name])
        else:
            paths[name] = "/" + str(pattern.pattern)
    del notification
    paths["two-factor"] = "/2fa/"
    return paths


def test_every_page_is_listed(world):
    paths = page_paths(world)
    assert {"home", "client-list", "client-detail", "referral-slip", "referral-link", "caseload"} <= set(paths)
    assert {"client-status", "programme-detail", "session-edit", "indicator-clients", "offline-shell"} <= set(paths)
    assert {"transfer-inbox", "transfer-request"} <= set(paths)
    assert all("<" not in p and "(" not in p for p in paths.values()), paths


@pytest.mark.parametrize("persona", [None, *PERSONAS])
def test_no_english_on_any_page(request, world, persona):
    msgids, labels = english_msgids(), untranslated_field_labels() | choice_codes()
    assert "Sign in" in msgids  # the catalogue was read
    assert {"Assigned social worker", "critical"} <= labels  # fields with no label, raw codes
    browser = BrowserClient(HTTP_ACCEPT_LANGUAGE="id")
    if persona:
        browser.force_login(request.getfixturevalue(persona))
    seen, problems = 0, {}
    for name, path in sorted(page_paths(world).items()):
        response = browser.get(path)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        seen += 1
        texts = texts_of(response.content.decode())
        english = sorted(t for t in texts if t in msgids or t in labels)
        if english:
            problems[f"{name} {path}"] = english
    assert seen >= (2 if persona is None else 5)
    assert not problems, "\n".join(f"{page}: {found}" for page, found in problems.items())

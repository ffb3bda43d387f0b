from django.urls import path, re_path, register_converter

from .views import (
    audit,
    auth,
    caseload,
    casework,
    clients,
    imports,
    incidents,
    notifications,
    programmes,
    referrals,
    today,
)


class IdConverter:
    """A whole id that fits the database's integer; anything longer is simply not found."""

    regex = "[0-9]{1,18}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)


register_converter(IdConverter, "id")
ID = "<id:pk>"

urlpatterns = [
    path("", today.today, name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("clients/", clients.client_list, name="client-list"),
    path("clients/new/", clients.client_create, name="client-create"),
    path("clients/import/", imports.import_upload, name="client-import-upload"),
    path(f"clients/import/{ID}/", imports.import_detail, name="client-import"),
    path(f"clients/{ID}/", clients.client_detail, name="client-detail"),
    path(f"clients/{ID}/edit/", clients.client_edit, name="client-edit"),
    path(f"clients/{ID}/visits/new/", clients.visit_create, name="visit-create"),
    path(f"clients/{ID}/refills/new/", clients.refill_create, name="refill-create"),
    path(f"clients/{ID}/assign/", clients.client_assign, name="client-assign"),
    path(f"clients/{ID}/status/", clients.client_status, name="client-status"),
    path(f"clients/{ID}/access-log/", audit.client_access_log, name="client-access-log"),
    path(f"clients/{ID}/assessment/", casework.assessment_create, name="assessment-create"),
    path(f"clients/{ID}/plan/", casework.client_plan, name="client-plan"),
    path(f"clients/{ID}/close/", casework.client_close, name="client-close"),
    path(f"actions/{ID}/tick/", casework.action_tick, name="action-tick"),
    path("reviews/", casework.review_queue, name="review-queue"),
    path(f"reviews/{ID}/sign-off/", casework.review_sign_off, name="review-sign-off"),
    path("emergency-access/", audit.break_glass_open, name="break-glass-open"),
    path("emergency-access/review/", audit.break_glass_review, name="break-glass-review"),
    path(f"tracing/{ID}/claim/", today.tracing_claim, name="tracing-claim"),
    path("incidents/", incidents.incident_board, name="incident-board"),
    path("incidents/new/", incidents.incident_report, name="incident-report"),
    path(f"incidents/{ID}/move/", incidents.incident_move, name="incident-move"),
    path("caseload/", caseload.caseload_review, name="caseload"),
    path("programmes/", programmes.programme_list, name="programme-list"),
    path("programmes/new/", programmes.programme_create, name="programme-create"),
    path(f"programmes/{ID}/", programmes.programme_detail, name="programme-detail"),
    path(f"programmes/{ID}/edit/", programmes.programme_edit, name="programme-edit"),
    path(f"programmes/{ID}/sessions/new/", programmes.session_create, name="session-create"),
    path(f"programmes/{ID}/enrol/", programmes.enrolment_create, name="enrolment-create"),
    path(f"sessions/{ID}/attendance/", programmes.session_edit, name="session-edit"),
    path(f"enrolments/{ID}/outcome/", programmes.enrolment_outcome, name="enrolment-outcome"),
    path("national/", programmes.national, name="national"),
    re_path(
        r"^caseload/indicators/(?P<indicator_id>HIV\.IND\.[0-9]{1,3})/$",
        caseload.indicator_clients,
        name="indicator-clients",
    ),
    path("notifications/", notifications.notification_list, name="notifications"),
    path(f"notifications/{ID}/read/", notifications.notification_read, name="notification-read"),
    # Referral pages (in/out boxes, facility inbox) come with their own views: /referrals/…
    path("referrals/", referrals.referral_list, name="referral-list"),
    path("referrals/new/", referrals.referral_create, name="referral-create"),
    path("referrals/new/services/", referrals.referral_services, name="referral-services"),
    path(f"referrals/{ID}/", referrals.referral_detail, name="referral-detail"),
    re_path(
        r"^referrals/(?P<pk>[0-9]{1,18})/(?P<action>send|accept|decline|complete|cancel)/$",
        referrals.referral_act,
        name="referral-act",
    ),
]

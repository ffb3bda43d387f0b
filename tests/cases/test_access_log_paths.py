"""Every record of a logged app is filed under its client in the access log, by a path its
own model states: a `client` foreign key, or `access_log_client_via` naming the record it
belongs to (cases.audit knows no other app's models). Records about no single client are
listed here, so that a new child record without its path fails this test."""

from django.apps import apps

from cases.audit import UNLOGGED_MODELS, _client_column
from cases.models import Client

# Organisation, programmes and meetings are about no one client (a meeting's attendees are
# logged through their attendance rows).
ABOUT_NO_ONE_CLIENT = {
    "cases.site",
    "cases.facility",
    "cases.user",
    "cases.supportgroup",
    "cases.clientimport",
    "referrals.facilityteam",
    "referrals.referraluserobjectpermission",
    "referrals.referralgroupobjectpermission",
    "outreach.meeting",
    "outreach.incidenttarget",
    "empowerment.programme",
    "empowerment.programmesession",
}


def _logged_models():
    for model in apps.get_models():
        config = apps.get_app_config(model._meta.app_label)
        if getattr(config, "access_logged", False) and model._meta.label_lower not in UNLOGGED_MODELS:
            yield model


def test_every_logged_record_names_the_way_to_its_client():
    missing = [
        model._meta.label_lower
        for model in _logged_models()
        if _client_column(model) is None and model._meta.label_lower not in ABOUT_NO_ONE_CLIENT
    ]
    assert not missing, f"logged models with no client path (a `client` key or access_log_client_via): {missing}"


def test_each_path_leads_to_a_client():
    for model in _logged_models():
        column = _client_column(model)
        if column is None or model is Client:
            continue
        *path, last = column.split("__")
        target = model
        for name in path:
            target = target._meta.get_field(name).related_model
        assert last == "client_id" and target._meta.get_field("client").related_model is Client, model

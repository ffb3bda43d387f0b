"""seed_demo shows the whole cycle at once."""

import io

import pytest
from django.core.management import call_command
from django.test import override_settings

from cases.models import Client
from casework.models import Action, Assessment, ClientClosure, Plan, Review, SocialProtection


@pytest.mark.django_db
@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
def test_seed_demo_has_the_cycle():
    call_command("seed_demo", stdout=io.StringIO())
    assert Assessment.objects.filter(kind="initial").count() >= 9
    assert Assessment.objects.filter(kind="review").count() >= 3
    assert Plan.objects.filter(ended_on__isnull=True).count() >= 6
    statuses = set(Action.objects.values_list("status", flat=True))
    assert {"open", "done"} <= statuses
    assert Review.objects.filter(signed_off_at__isnull=True).count() == 1
    assert Review.objects.filter(signed_off_at__isnull=False).exists()
    closure = ClientClosure.objects.get()
    assert closure.reason == "goals_met"
    assert Client.objects.get(pk=closure.client_id).closed_on == closure.closed_on
    assert SocialProtection.objects.exclude(bpjs_number="").exists()

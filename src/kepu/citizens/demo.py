"""Demo citizens for `kepu demo`: a farmer in 武进区 in his fifties, and an older resident of 天宁区
who reads in elder mode. Idempotent: running the demo again resets them."""

from __future__ import annotations

from django.apps import apps
from django.db import transaction

from kepu.citizens.models import Citizen, Consent, Purpose
from kepu.citizens.services import CONSENT_VERSION, citizen_pseudonym
from kepu.core.models import OrgUnit

# (username, district code, age band, occupation, key groups, interests, elder mode)
DEMO_CITIZENS = [
    ("citizen", "320412", "50-59", "farmer", ["farmers"], ["agriculture", "health"], False),
    ("elder", "320402", "70+", "retired", ["elderly"], ["health", "digital", "safety"], True),
]
DEMO_CITIZEN_NAMES = {"citizen": "武进区 农民市民(50–59 岁)", "elder": "天宁区 老年市民(70 岁以上，长辈模式)"}


@transaction.atomic
def citizens_demo(*, password: str) -> str:
    from django.contrib.auth.models import User

    topics = set()
    if apps.is_installed("kepu.outreach"):
        topics = set(apps.get_model("outreach", "Topic").objects.values_list("code", flat=True))
    made = []
    for username, district_code, band, occupation, groups, interests, elder in DEMO_CITIZENS:
        district = OrgUnit.objects.filter(code=district_code).first()
        if district is None:
            continue
        town = OrgUnit.objects.filter(parent=district, level=OrgUnit.Level.TOWN, valid_to__isnull=True).order_by(
            "sort", "code"
        ).first()
        user, _created = User.objects.get_or_create(username=username)
        user.set_password(password)
        user.save()
        user.roles.all().delete()
        citizen, _created = Citizen.objects.update_or_create(
            user=user,
            defaults={
                "pseudonym": citizen_pseudonym(user.pk),
                "age_band": band,
                "district": district,
                "town": town,
                "occupation": occupation,
                "key_groups": groups,
                "interests": [t for t in interests if t in topics] if topics else interests,
                "elder_mode": elder,
            },
        )
        citizen.consents.all().delete()
        Consent.objects.bulk_create(
            [Consent(citizen=citizen, purpose=p, granted=True, version=CONSENT_VERSION) for p in Purpose.values]
        )
        made.append(username)
    return f"Demo citizens: {', '.join(made)} (portal /me/)."

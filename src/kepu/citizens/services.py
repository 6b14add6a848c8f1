"""Writes about citizens: sign-up, profile, consents, elder mode, self-test link, deletion."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.citizens import deletion
from kepu.citizens.models import AGE_BANDS, KEY_GROUPS, Citizen, Consent, Purpose, SelfTestResult
from kepu.citizens.selectors import citizen_of, consents, has_consent
from kepu.core.errors import InputError
from kepu.core.models import AuditEntry, OrgUnit
from kepu.literacy.online import pseudonym as keyed_hash
from kepu.literacy.people import OCCUPATIONS

CONSENT_VERSION = "2026-1"
# Mainland China mobile numbers: 11 digits, 1 then 3–9 (an optional +86 / 86 prefix is dropped).
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,29}$")


class SignupError(InputError):
    """Bad sign-up input; `errors` maps form field → message."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("；".join(fields.values()), errors=list(fields.values()))
        self.fields = fields


def _audit(citizen: Citizen, action: str, changes: dict[str, tuple[Any, Any]] | None = None) -> None:
    """Audit a citizen's own change under their pseudonym: staff reading the log see neither the
    username nor the phone number (often the same thing)."""
    AuditEntry.objects.create(
        actor_label=str(citizen),
        action=action,
        object_type="citizens.citizen",
        object_id=str(citizen.pk),
        object_label=str(citizen),
        changes={k: [o, n] for k, (o, n) in (changes or {}).items()},
    )


def citizen_pseudonym(user_pk: int) -> str:
    return keyed_hash(f"citizen:{user_pk}")


def phone_normalise(raw: str) -> str:
    digits = re.sub(r"[\s-]", "", raw or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def _signup_errors(identifier: str, password: str, password_again: str | None) -> tuple[str, str, dict[str, str]]:
    """Split the identifier into (username, phone) and check both and the password."""
    errors: dict[str, str] = {}
    identifier = (identifier or "").strip()
    username = phone = ""
    if not identifier:
        errors["identifier"] = _("请填写手机号或用户名。")
    elif identifier.lstrip("+").replace(" ", "").replace("-", "").isdigit():
        phone = phone_normalise(identifier)
        if not PHONE_RE.match(phone):
            errors["identifier"] = _("手机号格式不对：请填写 11 位中国大陆手机号，如 13800000000。")
        elif Citizen.objects.filter(phone=phone).exists() or User.objects.filter(username=phone).exists():
            errors["identifier"] = _("这个手机号已经注册过了，请直接登录。")
        username = phone
    elif not USERNAME_RE.match(identifier):
        errors["identifier"] = _("用户名需 4–30 位，以字母开头，只含字母、数字和下划线。")
    elif User.objects.filter(username__iexact=identifier).exists():
        errors["identifier"] = _("这个用户名已经有人用了，请换一个。")
    else:
        username = identifier
    if not password:
        errors["password"] = _("请设置密码。")
    elif password_again is not None and password != password_again:
        errors["password2"] = _("两次输入的密码不一致。")
    else:
        try:
            validate_password(password, User(username=username))
        except ValidationError as exc:
            errors["password"] = " ".join(exc.messages)
    return username, phone, errors


@transaction.atomic
def citizen_signup(
    *, identifier: str, password: str, password_again: str | None = None, consents_granted: Iterable[str] = ()
) -> Citizen:
    """Create a citizen account from a username or a mainland mobile number and a password, and
    record a decision for every purpose (granted only for those ticked). Nothing else is asked."""
    username, phone, errors = _signup_errors(identifier, password, password_again)
    if errors:
        raise SignupError(errors)
    user = User.objects.create_user(username=username, password=password)
    citizen = Citizen.objects.create(user=user, pseudonym=citizen_pseudonym(user.pk), phone=phone)
    granted = set(consents_granted)
    for purpose in Purpose.values:
        Consent.objects.create(citizen=citizen, purpose=purpose, granted=purpose in granted, version=CONSENT_VERSION)
    _audit(citizen, "citizen.signup")
    return citizen


@transaction.atomic
def consents_set(*, citizen: Citizen, decisions: Mapping[str, bool]) -> list[str]:
    """Record a new row for each purpose whose decision changed; returns the purposes changed."""
    current = consents(citizen)
    changed = []
    for purpose, granted in decisions.items():
        if purpose not in Purpose.values:
            raise InputError(_("未知的授权用途。"))
        if current.get(purpose) != bool(granted):
            Consent.objects.create(citizen=citizen, purpose=purpose, granted=bool(granted), version=CONSENT_VERSION)
            changed.append(purpose)
    if changed:
        _audit(citizen, "citizen.consent", changes={p: (current.get(p), decisions[p]) for p in changed})
    return changed


def suggested_key_groups(age_band: str, occupation: str) -> list[str]:
    """The plan's key groups a profile suggests (the citizen may change them)."""
    groups = []
    if occupation == "student":
        groups.append("youth")
    if age_band in ("60-69", "70+") or occupation == "retired":
        groups.append("elderly")
    mapped = {"farmer": "farmers", "worker": "workers", "official": "officials"}.get(occupation)
    if mapped:
        groups.append(mapped)
    return groups


def _profile_errors(data: Mapping[str, Any], topics: Iterable[str]) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    band = data.get("age_band", "")
    if band and band not in {c for c, _l in AGE_BANDS}:
        errors["age_band"] = _("请选择年龄段。")
    clean["age_band"] = band
    district = town = None
    if data.get("district"):
        district = OrgUnit.objects.filter(code=data["district"], level=OrgUnit.Level.DISTRICT).first()
        if district is None:
            errors["district"] = _("请选择所在辖市(区)。")
    if data.get("town"):
        town = OrgUnit.objects.filter(code=data["town"], level=OrgUnit.Level.TOWN).first()
        if town is None:
            errors["town"] = _("请从列表中选择镇(街道)。")
        elif district is None or town.parent_id != district.pk:
            errors["town"] = _("所选镇(街道)不属于该辖市(区)。")
    clean["district"], clean["town"] = district, town
    occupation = data.get("occupation", "")
    if occupation and occupation not in {c for c, _l in OCCUPATIONS}:
        errors["occupation"] = _("请选择职业。")
    clean["occupation"] = occupation
    industry = str(data.get("industry", "")).strip()
    if len(industry) > 60:
        errors["industry"] = _("行业最多 60 个字。")
    clean["industry"] = industry
    groups = list(dict.fromkeys(data.get("key_groups") or []))
    if not set(groups) <= {c for c, _l in KEY_GROUPS}:
        errors["key_groups"] = _("请从列表中选择重点人群。")
    clean["key_groups"] = groups
    interests = list(dict.fromkeys(data.get("interests") or []))
    if not set(interests) <= set(topics):
        errors["interests"] = _("请从列表中选择感兴趣的主题。")
    clean["interests"] = interests
    return clean, errors


@transaction.atomic
def profile_update(*, citizen: Citizen, data: Mapping[str, Any], topics: Iterable[str] = ()) -> Citizen:
    """Save the profile; `topics` are the interest codes on offer. Raises SignupError (field →
    message) on bad input and changes nothing then."""
    clean, errors = _profile_errors(data, topics)
    if errors:
        raise SignupError(errors)
    for name, value in clean.items():
        setattr(citizen, name, value)
    citizen.save()
    _audit(citizen, "citizen.profile")
    return citizen


def elder_mode_set(*, citizen: Citizen, on: bool) -> None:
    if citizen.elder_mode != on:
        citizen.elder_mode = on
        citizen.save(update_fields=["elder_mode"])


def selftest_link(*, citizen: Citizen | None, session_id: int, finished_at: Any, dims: Mapping[str, float]) -> bool:
    """Link a finished self-test to the citizen when they consented to it; returns whether it
    was linked. Without consent nothing is stored. Linking the same session twice is a no-op."""
    if citizen is None or not has_consent(citizen, Purpose.SELFTEST_LINK):
        return False
    SelfTestResult.objects.get_or_create(
        session_id=session_id,
        defaults={"citizen": citizen, "finished_at": finished_at or timezone.now(), "dims": dict(dims)},
    )
    return True


@transaction.atomic
def citizen_delete(*, citizen: Citizen, password: str) -> None:
    """Delete the account after the password is confirmed: every app's registered deletion
    callback runs first, inside this transaction, then the Citizen and User rows go. The audit
    entry carries no personal data (not even the username)."""
    user = citizen.user
    if not user.check_password(password):
        raise InputError(_("密码不正确，账户没有删除。"))
    for callback in deletion.callbacks():
        callback(citizen)
    AuditEntry.objects.create(
        actor_label=_("市民"), action="citizen.delete", object_type="citizens.citizen", object_id="",
        object_label=_("已注销的市民账户"),
    )
    citizen.delete()
    user.delete()


def selftest_result_hook(user: Any, session: Any) -> bool:
    """kepu.literacy.online result hook: a finished self-test taken by a logged-in citizen is linked
    to them only with consent "selftest_link" (per dimension: share of points earned)."""
    citizen = citizen_of(user)
    if citizen is None or session.finished_at is None:
        return False
    respondent = session.respondent
    dims = {
        dim: round(float(respondent.earned.get(dim, 0)) / float(possible), 4)
        for dim, possible in (respondent.possible or {}).items()
        if possible
    }
    return selftest_link(citizen=citizen, session_id=session.pk, finished_at=session.finished_at, dims=dims)

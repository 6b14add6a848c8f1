"""The hazard starter set from YAML (src/kepu/emergency/data/hazards.yaml; schema in docs/emergency.md).

All or nothing: every row is checked first and every problem is listed with its place
("第 3 个灾种（flood）第 2 条指引 中文正文：…"); nothing is written unless the whole file is good.
Idempotent: hazards are matched by code and guidance by a key derived from phase, group and its
order among that phase and group ("during-all-1"), so loading the same file twice changes nothing.
A changed text is updated (audited old → new) and, if it had been reviewed or published, returns to
draft: the review was of the old text."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from kepu.core.errors import InputError
from kepu.core.services import audit_record
from kepu.emergency.models import Guidance, Hazard
from kepu.emergency.services import GuidanceInput, HazardInput, guidance_clean, hazard_clean

DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "hazards.yaml"
MAX_BYTES = 2 * 1024 * 1024
MAX_HAZARDS = 200
MAX_GUIDANCE = 60
BODY_ZH_MIN, BODY_ZH_MAX = 60, 220
TEXT_FIELDS = ("title_zh", "body_zh", "title_en", "body_en")


@dataclass
class LoadResult:
    hazards_created: int = 0
    hazards_updated: int = 0
    guidance_created: int = 0
    guidance_updated: int = 0
    unchanged: int = 0


def _parse(content: bytes | str) -> Any:
    raw = content.encode() if isinstance(content, str) else content
    if len(raw) > MAX_BYTES:
        raise InputError(_("文件过大（%(n)d 字节），最多 %(max)d 字节。") % {"n": len(raw), "max": MAX_BYTES})
    try:
        data = yaml.safe_load(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InputError(_("文件不是 UTF-8 编码的文本。")) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = _("第 %(line)d 行：") % {"line": mark.line + 1} if mark is not None else ""
        raise InputError(where + _("YAML 格式错误。")) from exc
    if not isinstance(data, dict) or not isinstance(data.get("hazards"), list):
        raise InputError(_("文件应以 hazards: 开头，其下为灾种列表。"))
    return data["hazards"]


def _where(i: int, code: Any, j: int | None = None) -> str:
    text = _("第 %(i)d 个灾种（%(code)s）") % {"i": i, "code": code or "?"}
    if j is not None:
        text += _("第 %(j)d 条指引") % {"j": j}
    return text


def _check_body(text: str, where: str, errors: list[str]) -> None:
    if text and not BODY_ZH_MIN <= len(text) <= BODY_ZH_MAX:
        errors.append(where + " " + _("中文正文：应为 %(a)d–%(b)d 字，实际 %(n)d 字。") % {
            "a": BODY_ZH_MIN, "b": BODY_ZH_MAX, "n": len(text)})


def validate(rows: Any) -> tuple[list[tuple[dict[str, Any], list[dict[str, Any]]]], list[str]]:
    """Every row cleaned, and every problem found (empty when the file is good)."""
    errors: list[str] = []
    out: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    if len(rows) > MAX_HAZARDS:
        return [], [_("灾种过多（%(n)d 个），最多 %(max)d 个。") % {"n": len(rows), "max": MAX_HAZARDS}]
    seen: set[str] = set()
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            errors.append(_where(i, None) + " " + _("应为一个对象（code、name_zh、guidance …）。"))
            continue
        where = _where(i, row.get("code"))
        hazard, errs = hazard_clean(HazardInput(
            code=row.get("code", ""), name_zh=row.get("name_zh", ""), name_en=row.get("name_en", ""),
            category=row.get("category", ""), keywords=row.get("keywords") or [],
            resource_codes=row.get("resources") or []), where=where)
        errors += errs
        if hazard["code"] in seen:
            errors.append(where + " " + _("代码重复。"))
        seen.add(hazard["code"])
        items = row.get("guidance") or []
        if not isinstance(items, list) or len(items) > MAX_GUIDANCE:
            errors.append(where + " " + _("guidance：应为指引列表（最多 %(n)d 条）。") % {"n": MAX_GUIDANCE})
            continue
        guidance = []
        counters: dict[tuple[str, str], int] = {}
        for j, g in enumerate(items, start=1):
            gw = _where(i, row.get("code"), j)
            if not isinstance(g, dict):
                errors.append(gw + " " + _("应为一个对象（phase、group、title_zh、body_zh …）。"))
                continue
            clean, errs = guidance_clean(GuidanceInput(
                phase=str(g.get("phase", "")), group=str(g.get("group", "all")), title_zh=g.get("title_zh", ""),
                body_zh=g.get("body_zh", ""), title_en=g.get("title_en", ""), body_en=g.get("body_en", "")),
                where=gw)
            errors += errs
            _check_body(clean["body_zh"], gw, errors)
            n = counters.get((clean["phase"], clean["group"]), 0) + 1
            counters[(clean["phase"], clean["group"])] = n
            clean["key"] = f"{clean['phase']}-{clean['group']}-{n}"
            guidance.append(clean)
        out.append((hazard, guidance))
    return out, errors


def _unknown_resources(rows: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> list[str]:
    from kepu.emergency.selectors import unknown_resource_codes

    errors = []
    for i, (hazard, _g) in enumerate(rows, start=1):
        missing = unknown_resource_codes(hazard["resource_codes"])
        if missing:
            errors.append(_where(i, hazard["code"]) + " " + _("关联内容：目录中没有已发布的这些内容：%(codes)s") % {
                "codes": ", ".join(missing)})
    return errors


def hazards_load(*, content: bytes | str, actor: User | None = None, source: str = "") -> LoadResult:
    """Load (or reload) hazards and guidance; all or nothing; see the module docstring."""
    rows, errors = validate(_parse(content))
    errors += _unknown_resources(rows)
    if errors:
        raise InputError(errors[0], errors=errors)
    result = LoadResult()
    with transaction.atomic():
        for hazard_data, guidance in rows:
            _load_hazard(hazard_data, guidance, actor, result)
        audit_record(actor=actor, action="emergency.hazards_load", obj=Hazard(code="starter-set"),
                     label=source or "hazards.yaml", changes={"loaded": (None, {
                         "hazards_created": result.hazards_created, "hazards_updated": result.hazards_updated,
                         "guidance_created": result.guidance_created, "guidance_updated": result.guidance_updated})})
        if result.guidance_updated:
            from kepu.emergency.indicators import guidance_publish_count

            guidance_publish_count()  # a changed published text went back to draft
    return result


def _load_hazard(data: dict[str, Any], guidance: list[dict[str, Any]], actor: User | None,
                 result: LoadResult) -> None:
    hazard = Hazard.objects.filter(code=data["code"]).first()
    if hazard is None:
        if not data["resource_codes"]:
            data = {**data, "resource_codes": []}
        hazard = Hazard.objects.create(**data)
        result.hazards_created += 1
        audit_record(actor=actor, action="hazard.create", obj=hazard, changes={k: (None, v) for k, v in data.items()})
    else:
        wanted = dict(data)
        if not wanted["resource_codes"]:
            wanted.pop("resource_codes")  # links made on the hazard page survive a reload of a file without any
        changes = {k: (getattr(hazard, k), v) for k, v in wanted.items() if getattr(hazard, k) != v}
        if changes:
            for k, (_old, new) in changes.items():
                setattr(hazard, k, new)
            hazard.save()
            result.hazards_updated += 1
            audit_record(actor=actor, action="hazard.update", obj=hazard, changes=changes, comment=_("从文件重新载入"))
    existing = {g.key: g for g in hazard.guidance.all()}
    for item in guidance:
        g = existing.get(item["key"])
        if g is None:
            g = Guidance.objects.create(hazard=hazard, author=actor, **item)
            result.guidance_created += 1
            audit_record(actor=actor, action="guidance.create", obj=g,
                         changes={k: (None, item[k]) for k in TEXT_FIELDS}, comment=_("从文件载入"))
            continue
        changes = {k: (getattr(g, k), item[k]) for k in (*TEXT_FIELDS, "phase", "group") if getattr(g, k) != item[k]}
        if not changes:
            result.unchanged += 1
            continue
        for k, (_old, new) in changes.items():
            setattr(g, k, new)
        if g.status != Guidance.Status.DRAFT:
            changes["status"] = (g.status, Guidance.Status.DRAFT)
            g.status, g.reviewed_by, g.reviewed_at, g.published_at = Guidance.Status.DRAFT, None, None, None
        g.save()
        result.guidance_updated += 1
        audit_record(actor=actor, action="guidance.update", obj=g, changes=changes, comment=_("从文件重新载入"))


def starter_review(*, reviewer: User, publisher: User) -> int:
    """Review (as an expert) and publish every draft guidance piece; for the demo seed. Returns how many."""
    from kepu.emergency.indicators import guidance_publish_count
    from kepu.emergency.services import guidance_publish, guidance_review

    n = 0
    with transaction.atomic():
        for g in Guidance.objects.filter(status=Guidance.Status.DRAFT).exclude(author=reviewer).order_by("pk"):
            guidance_review(actor=reviewer, guidance=g, comment=_("演示：专家审核"))
            guidance_publish(actor=publisher, guidance=g, indicators_now=False)
            n += 1
        guidance_publish_count()
    return n

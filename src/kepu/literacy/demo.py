"""A simulated survey wave for the demo: respondents answer real forms from the starter bank with
probabilities from a 2PL model whose abilities follow the gradients real surveys show (urban >
rural, men > women, falling with age, steep by education), calibrated to a chosen city rate."""

from __future__ import annotations

import csv
import io
import math
import random
from pathlib import Path

from django.conf import settings
from django.db import transaction

from kepu.core.models import OrgUnit
from kepu.core.services import audit_record
from kepu.literacy.items import items_import, read_item_file
from kepu.literacy.models import Item, Wave
from kepu.literacy.services import wave_create, wave_process
from kepu.literacy.waves import respondents_import

ITEM_DIR = settings.REPO_DIR / "data/literacy/items"
FORM_POINTS = {"knowledge": 16, "method": 8, "spirit": 8, "application": 8}
# Ability shifts (logits) echoing LITERACY.md's gradients.
EDU = {"primary": -1.4, "junior": -0.7, "senior": -0.1, "college": 0.45, "bachelor": 1.0}
EDU_SHARE = {"primary": 0.2, "junior": 0.36, "senior": 0.17, "college": 0.12, "bachelor": 0.15}
# Urban core districts ahead, the two county-level units with large rural areas behind.
DISTRICT_EFFECT = {
    "320402": 0.15,
    "320404": 0.12,
    "320411": 0.08,
    "320412": 0.02,
    "320413": -0.12,
    "320481": -0.15,
    "changzhou_edz": -0.02,
}
AGE = [(18, 29, 0.55), (30, 39, 0.3), (40, 49, 0.0), (50, 59, -0.35), (60, 69, -0.75), (70, 75, -1.0)]


def starter_bank_load(*, live: bool = True) -> int:
    rows = []
    for path in sorted(ITEM_DIR.glob("*.yaml")):
        rows += read_item_file(path)
    if live:
        rows = [{**r, "status": "live"} for r in rows]
    items_import(rows=rows, source="初始题库")
    return len(rows)


def _form(rng: random.Random, items: list[Item]) -> list[Item]:
    out: list[Item] = []
    for dim, target in FORM_POINTS.items():
        pool = [i for i in items if i.dimension == dim]
        rng.shuffle(pool)
        pool.sort(key=lambda i: not i.anchor)
        got = 0
        for item in pool:
            if got + item.points <= target:
                out.append(item)
                got += item.points
    return out


def _answer(item: Item, p: float, rng: random.Random) -> str:
    right = rng.random() < p
    key = item.key
    if item.type == "true_false":
        return str(key if right else not key).lower()
    letters = [o["key"] for o in item.options]
    if right:
        return "".join(key) if isinstance(key, list) else str(key)
    wrong = [x for x in letters if x not in (key if isinstance(key, list) else [key])]
    return rng.choice(wrong) if wrong else letters[0]


def simulate_file(*, region: OrgUnit, year: int, shift: float, seed: int = 7, per_psu: int = 30) -> bytes:
    rng = random.Random(seed)
    items = list(Item.objects.filter(status=Item.Status.LIVE))
    rows = []
    for d_i, district in enumerate(
        OrgUnit.objects.filter(parent=region, level="district", valid_to__isnull=True).order_by("sort")
    ):
        towns = list(OrgUnit.objects.filter(parent=district, level="town", valid_to__isnull=True).order_by("code"))
        urban_share = district.urban_share or 0.77
        district_effect = DISTRICT_EFFECT.get(district.code, 0.0)
        for p_i, town in enumerate(towns):
            psu_effect = rng.gauss(0, 0.3)
            for k in range(per_psu):
                sex = "M" if rng.random() < 0.51 else "F"
                age = rng.randint(18, 75)
                area = "urban" if rng.random() < urban_share else "rural"
                edu = rng.choices(list(EDU_SHARE), weights=list(EDU_SHARE.values()))[0]
                occ = rng.choices(
                    ["farmer", "worker", "official", "professional", "service", "retired", "other"],
                    weights=[
                        0.12 if area == "rural" else 0.02,
                        0.25,
                        0.04,
                        0.12,
                        0.2,
                        0.15 if age >= 55 else 0.02,
                        0.1,
                    ],
                )[0]
                theta = (
                    shift
                    + district_effect
                    + psu_effect
                    + EDU[edu]
                    + (0.25 if area == "urban" else -0.35)
                    + (0.12 if sex == "M" else -0.12)
                    + next(e for lo, hi, e in AGE if lo <= age <= hi)
                    + rng.gauss(0, 0.8)
                )
                row = {
                    "respondent_id": f"{year}-{d_i}-{p_i}-{k}",
                    "stratum": district.code,
                    "psu": str(p_i + 1),
                    "base_weight": round(
                        (district.population or 500000) / (len(towns) * per_psu) * rng.uniform(0.8, 1.25), 3
                    ),
                    "district": district.code,
                    "town": town.code,
                    "sex": sex,
                    "age": age,
                    "area": area,
                    "education": edu,
                    "occupation": occ,
                }
                for item in _form(rng, items):
                    b = -math.log((item.difficulty or 0.6) / (1 - (item.difficulty or 0.6))) / 1.2
                    p = 1 / (1 + math.exp(-1.3 * (theta - b)))
                    row[item.code] = _answer(item, p, rng)
                rows.append(row)
    base = [
        "respondent_id",
        "stratum",
        "psu",
        "base_weight",
        "district",
        "town",
        "sex",
        "age",
        "area",
        "education",
        "occupation",
    ]
    header = base + sorted({c for r in rows for c in r} - set(base))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, restval="")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode()


@transaction.atomic
def literacy_demo(*, year: int, shift: float = -0.8, seed: int = 7, out: Path | None = None) -> str:
    """Load the starter bank (live), simulate a wave for `year`, weight, estimate and publish it."""
    n_items = starter_bank_load()
    wave = wave_create(
        code=f"cz-{year}",
        year=year,
        name=f"{year}年常州市公民科学素质抽样调查(演示数据)",
        name_en=f"{year} Changzhou citizen science literacy sample survey (demo data)",
        design={"strata": "辖市(区)", "psu": "镇(街道)", "note": "simulated demo data"},
    )
    content = simulate_file(region=wave.region, year=year, shift=shift, seed=seed)
    if out is not None:
        out.write_bytes(content)
    n = respondents_import(wave=wave, content=content, name=f"demo-{year}.csv")
    audit_record(actor=None, action="literacy.demo", obj=wave,
                 comment=f"演示数据：模拟受访者 {n} 人，题库 {n_items} 道题")
    return wave_process(code=wave.code, variables=["district", "sex", "area"], publish=True)


def wave_for(year: int) -> Wave | None:
    return Wave.objects.filter(code=f"cz-{year}").first()

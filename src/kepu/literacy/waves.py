"""Survey waves: creating one, importing its respondent file (all or nothing), attaching opt-in
online responses as a separate, labelled non-probability sample.

Respondent file contract (CSV, UTF-8 with or without BOM, or the first sheet of an XLSX):
  required  respondent_id  the survey's own id (stored only as a keyed hash)
            stratum, psu   design: PSUs are nested in strata (PSU ids may repeat across strata)
            base_weight    design weight, > 0
            district       org-unit code (e.g. 320412) or Chinese name (武进区)
            sex            M/F or 男/女
            age            whole years
            area           urban/rural or 城镇/乡村
  optional  town           org-unit code or Chinese name of a town/street in that district
            education      primary | junior | senior | college | bachelor (or 小学及以下 … 本科及以上)
            occupation     student | farmer | worker | official | professional | service | retired | other
  items     one column per item code (e.g. K001): the answer given (A, B, AC, true/false, 对/错);
            blank = the item was not on this respondent's form. At least one item column.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.core.errors import InputError
from kepu.core.models import OrgUnit
from kepu.core.services import audit_record
from kepu.core.uploads import number_problem
from kepu.literacy.items import item_points, normalise_response
from kepu.literacy.models import DIMENSIONS, Item, Respondent, Wave
from kepu.literacy.online import pseudonym
from kepu.literacy.people import EDUCATION, OCCUPATIONS, age_band, key_group
from kepu.literacy.scoring import respondents_score, respondents_score_set
from kepu.literacy.tables import read_rows

REQUIRED = ["respondent_id", "stratum", "psu", "base_weight", "district", "sex", "age", "area"]
OPTIONAL = ["town", "education", "occupation"]
SEX = {"m": "M", "male": "M", "男": "M", "f": "F", "female": "F", "女": "F"}
AREA = {"urban": "urban", "城镇": "urban", "城市": "urban", "rural": "rural", "乡村": "rural", "农村": "rural"}
EDU = {**{c: c for c, _label in EDUCATION}, **{str(label): c for c, label in EDUCATION}}
OCC = {c: c for c, _ in OCCUPATIONS}


def _units(region: OrgUnit) -> tuple[dict[str, OrgUnit], dict[str, OrgUnit]]:
    districts = {}
    towns = {}
    for u in OrgUnit.objects.filter(path__startswith=region.path):
        if u.level == OrgUnit.Level.DISTRICT:
            districts[u.code] = districts[u.name_zh] = u
        elif u.level == OrgUnit.Level.TOWN:
            towns[u.code] = towns[u.name_zh] = u
    return districts, towns


@transaction.atomic
def respondents_import(*, wave: Wave, content: bytes, name: str, actor: User | None = None) -> int:
    """Import a wave's respondents; every row and column is checked before anything is written."""
    table = read_rows(content, name)
    header = table.header
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(
            _("%(name)s：缺少列 %(cols)s；请对照受访者文件的列要求。") % {"name": name, "cols": ", ".join(missing)}
        )
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise InputError(_("%(name)s：列名重复：%(cols)s") % {"name": name, "cols": ", ".join(dup)})
    items = {i.code: i for i in Item.objects.filter(code__in=header)}
    unknown = [h for h in header if h not in REQUIRED + OPTIONAL and h not in items]
    if unknown:
        raise InputError(
            _("%(name)s：列 %(cols)s 既不是规定的列，也不是题目编号") % {"name": name, "cols": ", ".join(unknown)}
        )
    if not items:
        raise InputError(_("%(name)s：没有题目列；每道题一列，列名为题目编号，内容为作答") % {"name": name})
    districts, towns = _units(wave.region)
    col = {h: i for i, h in enumerate(header)}
    errors: list[str] = []
    seen: set[str] = set()
    objs: list[Respondent] = []
    answers = _Answers(items)
    for r, row in zip(table.numbers, table.rows, strict=True):
        row = row + [""] * (len(header) - len(row))
        where = _Where(name, r)
        obj = _respondent(wave, row, col, answers, districts, towns, where, errors)
        if obj is not None:
            if obj.key in seen:
                errors.append(_("%(where)s，respondent_id 列：受访者编号重复") % {"where": where})
            seen.add(obj.key)
            objs.append(obj)
        if len(errors) > 200:
            break
    if not objs and not errors:
        errors.append(_("%(name)s：没有受访者数据行") % {"name": name})
    if errors:
        raise InputError(
            _("%(name)s：发现 %(n)s 处问题，未导入任何数据") % {"name": name, "n": len(errors)}, errors=errors
        )
    respondents_score_set(objs, wave.profile)  # scored before the insert: each row is written once
    Respondent.objects.filter(wave=wave, sample=Respondent.Sample.PROBABILITY).delete()
    _insert(objs)
    audit_record(actor=actor, action="wave.import", obj=wave, changes={"respondents": (None, len(objs))},
                 comment=f"导入受访者文件 {name}：{len(objs)} 人")
    return len(objs)


def _insert(objs: list[Respondent]) -> None:
    """``bulk_create(objs)``, in one ``executemany``. Django's bulk_create compiles the SQL of every value (on
    SQLite, 999 parameters a statement: 45 respondents), 70 % of a 100,000-respondent import; here each
    column's conversion is chosen once. Every concrete field is written; ``created_at`` is now."""
    now = timezone.now()
    fields = [f for f in Respondent._meta.concrete_fields if not f.primary_key]
    ops = connection.ops
    convert: list[Any] = []
    for f in fields:
        if isinstance(f, models.JSONField):
            convert.append(lambda v, enc=f.encoder: ops.adapt_json_value(v, enc))
        elif f.attname == "created_at":
            stamp = f.get_db_prep_save(now, connection)
            convert.append(lambda _v, stamp=stamp: stamp)
        else:
            convert.append(None)  # text, numbers, booleans and foreign-key ids go to the driver as they are
    for obj in objs:
        obj.created_at = now
    quote = ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(Respondent._meta.db_table), ", ".join(quote(f.column) for f in fields), ", ".join(["%s"] * len(fields))
    )
    pairs = list(zip((f.attname for f in fields), convert, strict=True))
    with connection.cursor() as cursor:
        for start in range(0, len(objs), 5000):
            chunk = objs[start : start + 5000]
            cursor.executemany(sql, [[c(getattr(o, a)) if c else getattr(o, a) for a, c in pairs] for o in chunk])


class _Where:
    """ "<file>：第 N 行" for messages, translated only when a message uses it (not once per row)."""

    def __init__(self, name: str, row: int) -> None:
        self.name, self.row = name, row

    def __str__(self) -> str:
        return _("%(name)s：第 %(row)s 行") % {"name": self.name, "row": self.row}


class _Answers:
    """Answers normalised once per distinct (item, answer as written): a file of 100,000 respondents × 40
    items holds a few hundred distinct answers, not four million."""

    def __init__(self, items: dict[str, Item]) -> None:
        self.items = items
        self._seen: dict[tuple[str, str], tuple[Any, str | None]] = {}
        self._points: dict[tuple[str, str], float] = {}

    def normalise(self, code: str, raw: str) -> tuple[Any, str | None]:
        """(The answer as the key is written, None) or (None, the problem)."""
        key = (code, raw)
        if key not in self._seen:
            try:
                self._seen[key] = (normalise_response(self.items[code], raw), None)
            except ValueError as exc:
                self._seen[key] = (None, str(exc))
        return self._seen[key]

    def by_dimension(self, given: dict[str, str]) -> tuple[dict[str, float], dict[str, float]]:
        """`scoring.points_by_dimension` of valid answers (item code -> answer as written), each distinct
        answer's points computed once."""
        earned = dict.fromkeys(DIMENSIONS, 0.0)
        possible = dict.fromkeys(DIMENSIONS, 0.0)
        for code, raw in given.items():
            item = self.items[code]
            points = self._points.get((code, raw))
            if points is None:
                points = self._points[(code, raw)] = item_points(item, self._seen[(code, raw)][0])[0]
            possible[item.dimension] += item.points
            earned[item.dimension] += points
        return earned, possible


def _respondent(
    wave: Wave,
    row: list[str],
    col: dict[str, int],
    answers: _Answers,
    districts: dict[str, OrgUnit],
    towns: dict[str, OrgUnit],
    where: _Where,
    errors: list[str],
) -> Respondent | None:
    def cell(name: str) -> str:
        return row[col[name]].strip() if name in col else ""

    n_before = len(errors)

    def bad(name: str, expected: str) -> None:
        errors.append(
            _("%(where)s，%(column)s 列：应为%(expected)s，实际为“%(got)s”")
            % {"where": where, "column": name, "expected": expected, "got": cell(name)}
        )

    rid = cell("respondent_id")
    if not rid:
        bad("respondent_id", _("受访者编号"))
    if not cell("stratum"):
        bad("stratum", _("层的标签"))
    if not cell("psu"):
        bad("psu", _("初级抽样单元(PSU)的标签"))
    try:
        weight = float(cell("base_weight"))
        if not weight > 0 or number_problem(weight):  # inf, nan and 1e308 are no weights
            raise ValueError
    except ValueError:
        bad("base_weight", _("正数"))
        weight = 0.0
    district = districts.get(cell("district"))
    if district is None:
        bad("district", _("%(region)s的辖市(区)代码或名称") % {"region": wave.region.name_zh})
    sex = SEX.get(cell("sex").lower())
    if sex is None:
        bad("sex", _("M/F 或 男/女"))
    age: int | None = None
    try:
        value = float(cell("age"))
        if not (0 <= value <= 120 and value.is_integer()):
            raise ValueError
        age = int(value)
    except ValueError:
        bad("age", _("0–120 的整数周岁"))
    area = AREA.get(cell("area").lower())
    if area is None:
        bad("area", _("urban/rural 或 城镇/乡村"))
    town = None
    if cell("town"):
        town = towns.get(cell("town"))
        if town is None or (district is not None and town.parent_id != district.pk):
            bad("town", _("该行所在辖市(区)的镇(街道)"))
    education = EDU.get(cell("education"), "") if cell("education") else ""
    if cell("education") and not education:
        bad("education", _("以下之一：%(list)s") % {"list": ", ".join(c for c, _label in EDUCATION)})
    occupation = cell("occupation")
    if occupation and occupation not in OCC:
        bad("occupation", _("以下之一：%(list)s") % {"list": ", ".join(OCC)})
    responses: dict[str, Any] = {}
    given: dict[str, str] = {}
    for code in answers.items:
        raw = cell(code)
        if raw == "":
            continue
        value, problem = answers.normalise(code, raw)
        if problem is not None:
            errors.append(
                _("%(where)s，%(column)s 列：%(problem)s") % {"where": where, "column": code, "problem": problem}
            )
        responses[code] = value
        given[code] = raw
    if len(errors) > n_before:
        return None
    earned, possible = answers.by_dimension(given)
    return Respondent(
        wave=wave,
        sample=Respondent.Sample.PROBABILITY,
        key=pseudonym(f"{wave.code}:{rid}"),
        stratum=cell("stratum"),
        psu=cell("psu"),
        base_weight=weight,
        weight=weight,
        district_id=district.pk if district else None,
        town_id=town.pk if town else None,
        sex=sex or "",
        age=age,
        age_band=age_band(age),
        area=area or "",
        education=education,
        occupation=occupation,
        key_group=key_group(age, occupation),
        responses=responses,
        earned=earned,
        possible=possible,
    )


@transaction.atomic
def wave_attach_online(*, wave: Wave, respondents: Iterable[Respondent], actor: User | None = None) -> int:
    """Attach finished online tests to a wave, only ever as the labelled opt-in sample."""
    ids = [r.pk for r in respondents if r.sample == Respondent.Sample.OPT_IN]
    n = Respondent.objects.filter(pk__in=ids, wave__isnull=True).update(wave=wave)
    audit_record(actor=actor, action="wave.attach_online", obj=wave, changes={"opt_in": (None, n)},
                 comment=f"附加自愿在线测试答卷 {n} 份(非概率样本，单独标注)")
    return n


@transaction.atomic
def wave_rescore(*, wave: Wave, profile_code: str, actor: User | None = None) -> None:
    """Change a wave's scoring profile and re-score every respondent (reproducible)."""
    from kepu.literacy.models import ScoringProfile

    profile = ScoringProfile.objects.get(code=profile_code)
    old = wave.profile.code
    wave.profile = profile
    wave.save(update_fields=["profile"])
    respondents_score(list(wave.respondents.all()), profile)
    audit_record(actor=actor, action="wave.profile", obj=wave, changes={"profile": (old, profile_code)},
                 comment=f"评分标准改为“{profile.name_zh}”，全部受访者已重新评分")

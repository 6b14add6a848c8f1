"""What recognition contributes to plan indicators: individuals and collectives honoured in a year
(SCI_HONOURS), per county-level unit of the nominee's org unit and for the city (the city's figure
also counts nominees at city level, e.g. a 市级 department). Published from the award and revoke
services inside their transaction, so a revocation moves the figure back at once."""

from __future__ import annotations

from kepu.core.models import OrgUnit
from kepu.plans.derived import city_districts, publish_by_district, publishable_year
from kepu.recognition.models import HonourAward

HONOURS = "SCI_HONOURS"


def honours_publish(*, city: OrgUnit, year: int) -> None:
    if not publishable_year(year):
        return
    rows = list(HonourAward.objects.filter(year=year, nomination__org_unit__path__startswith=city.path)
                .values_list("nomination__org_unit__path", "revoked"))
    by_district: dict[str, float] = {}
    for d in city_districts(city, year):
        mine = [revoked for path, revoked in rows if path.startswith(d.path)]
        if mine:  # named even when every award was revoked, so the undo publishes 0
            by_district[d.code] = float(sum(1 for revoked in mine if not revoked))
    publish_by_district(
        code=HONOURS, year=year, city=city, by_district=by_district,
        city_value=float(sum(1 for _, revoked in rows if not revoked)), source="recognition",
        note=f"{year} 年获科普表彰奖励的个人和集体（按被推荐人所在辖市(区)，不含已撤销的）",
    )

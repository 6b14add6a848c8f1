"""The wave's weighting setting for standard errors (issue 7 point 5): Taylor linearisation or the
delete-one-PSU jackknife with re-raked replicates, chosen on the wave page by the office only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from conftest import PASSWORD
from tests.test_literacy_waves import DISTRICTS, respondent_csv

pytestmark = pytest.mark.django_db

JKN_LABEL = "刀切法(JKn，逐一删除PSU并重新加权)"


@pytest.fixture
def wave(users: dict[str, Any], plan: Any, django_capture_on_commit_callbacks: Any) -> Any:
    from kepu.literacy.estimates import wave_estimate, wave_weight
    from kepu.literacy.indicators import wave_publish
    from kepu.literacy.services import wave_create
    from kepu.literacy.tests.factories import load_items
    from kepu.literacy.waves import respondents_import

    load_items()
    wave = wave_create(code="v-2025", year=2025)
    respondents_import(wave=wave, content=respondent_csv(n_per_psu=20), name="r.csv")
    wave_weight(wave=wave, variables=["district", "sex", "area"])
    wave_estimate(wave=wave)
    with django_capture_on_commit_callbacks(execute=True):
        wave_publish(wave=wave, plan=plan)
    return wave


def client_for(username: str) -> Client:
    c = Client()
    assert c.login(username=username, password=PASSWORD)
    return c


def overall(wave: Any) -> Any:
    from kepu.literacy.models import WaveEstimate

    return WaveEstimate.objects.get(wave=wave, variable="overall", unit="")


def test_office_switches_a_wave_to_the_jackknife_and_it_is_estimated_again(
    wave: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from kepu.core.models import AuditEntry
    from kepu.plans.models import Observation

    taylor = overall(wave)
    c = client_for("office")
    page = c.get("/literacy/waves/v-2025/").content.decode()
    assert 'data-testid="variance"' in page and "泰勒线性化" in page and JKN_LABEL in page  # the choice is offered
    with django_capture_on_commit_callbacks(execute=True):
        done = c.post("/literacy/waves/v-2025/variance/", {"variance": "jkn"})
    assert done.status_code == 302
    wave.refresh_from_db()
    assert wave.variance == "jkn"
    jkn = overall(wave)
    assert jkn.estimate == pytest.approx(taylor.estimate, abs=1e-9)  # the same raked weights
    assert jkn.se != pytest.approx(taylor.se, rel=1e-6) and 0.5 < jkn.se / taylor.se < 2
    # 7 strata x 3 PSUs: the design df (PSUs - strata = 14) under both methods, not the raked replicate
    # design's degf (replicates - 1 = 20; see kepu.stats.replicate).
    assert taylor.df == jkn.df == 3 * len(DISTRICTS) - len(DISTRICTS)
    city = Observation.objects.get(indicator__code="LIT_RATE", org_unit__code="320400", year=2025)
    assert city.se == pytest.approx(100 * jkn.se, abs=1e-3)  # the published figure follows the setting
    assert AuditEntry.objects.filter(action="wave.variance").count() == 1
    shown = c.get("/literacy/waves/v-2025/").content.decode()
    assert f'<div class="n small">{JKN_LABEL}</div>' in shown and "已按" in shown


def test_only_the_office_changes_the_setting(wave: Any) -> None:
    before = overall(wave)
    denied = client_for("wujin").post("/literacy/waves/v-2025/variance/", {"variance": "jkn"})
    assert denied.status_code == 403
    wave.refresh_from_db()
    assert wave.variance == "taylor" and overall(wave).se == before.se
    page = client_for("wujin").get("/literacy/waves/v-2025/").content.decode()
    assert "/variance/" not in page  # no form for them
    assert client_for("office").get("/literacy/waves/v-2025/variance/").status_code == 405


def test_an_unknown_method_changes_nothing(wave: Any) -> None:
    c = client_for("office")
    done = c.post("/literacy/waves/v-2025/variance/", {"variance": "bootstrap"}, follow=True)
    assert "未知的方差估计方法：bootstrap" in done.content.decode()
    wave.refresh_from_db()
    assert wave.variance == "taylor"


def test_jackknife_with_trimmed_weights_is_refused_and_nothing_changes(wave: Any) -> None:
    from kepu.core.errors import InputError
    from kepu.literacy.models import Wave
    from kepu.literacy.services import wave_variance_set

    wave.weighting = {**wave.weighting, "trim": [0.3, 3.0]}
    wave.save(update_fields=["weighting"])
    se = overall(wave).se
    with pytest.raises(InputError, match="刀切法不能与权数截尾同时使用"):
        wave_variance_set(wave=wave, variance="jkn")
    assert Wave.objects.get(pk=wave.pk).variance == "taylor" and overall(wave).se == se


def test_cli_wave_weight_sets_the_variance_method(wave: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    se_taylor = overall(wave).se
    out = StringIO()
    call_command("literacy", "wave", "weight", "v-2025", "--variance", "jkn", stdout=out)
    wave.refresh_from_db()
    assert wave.variance == "jkn" and "variance jkn" in out.getvalue()
    assert overall(wave).se != pytest.approx(se_taylor, rel=1e-6)  # estimated with the re-raked jackknife
    call_command("literacy", "wave", "weight", "v-2025", stdout=StringIO())  # no --variance: the wave keeps it
    wave.refresh_from_db()
    assert wave.variance == "jkn"


def test_a_replicate_that_cannot_be_raked_is_named_in_chinese(wave: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from kepu.core.errors import InputError
    from kepu.literacy.services import wave_variance_set
    from kepu.stats import replicate

    def fails(*args: Any, **kwargs: Any) -> Any:
        raise replicate.ReplicateRakingError("no respondent left", stratum="320402", psu="2", margin="sex")

    monkeypatch.setattr(replicate, "jackknife", fails)
    with pytest.raises(InputError, match="去掉层 320402 的初级抽样单元 2 后，无法再按性别加权") as e:
        wave_variance_set(wave=wave, variance="jkn")
    assert "sex" not in str(e.value) and "respondent" not in str(e.value)

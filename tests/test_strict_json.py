"""Strict JSON (issue 7, point 2): no NaN/Infinity in `kepu literacy estimate --json` or in API responses.

An undefined quantity is null and the estimate's `flags` say why. Every output is parsed with a strict
parser that refuses the NaN/Infinity/-Infinity constants Python's json would otherwise accept."""

from __future__ import annotations

import csv
import json
import math
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command
from django.test import RequestFactory
from ninja import Schema

from kepu.api import api
from kepu.core.api_json import StrictJSONRenderer
from kepu.core.strict_json import dumps, finite
from kepu.literacy.cli_estimate import estimate_json
from kepu.stats.survey import Estimate

E_KEYS = {"n", "estimate", "se", "ci_low", "ci_high", "ci_logit_low", "ci_logit_high", "deff", "flags",
          "ci_kg_low", "ci_kg_high", "df", "n_eff", "presentable"}
NUMBERS = E_KEYS - {"n", "flags", "presentable", "df"}
PAIRS = {"ci_low": "ci", "ci_high": "ci", "ci_logit_low": "ci_logit", "ci_logit_high": "ci_logit",
         "ci_kg_low": "ci_kg", "ci_kg_high": "ci_kg"}


def strict_loads(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_the_strict_parser_really_refuses_nan() -> None:
    with pytest.raises(ValueError, match="NaN"):
        strict_loads('{"deff": NaN}')


def write(path: Path, rows: list[tuple[str, int, float, int, str]]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["stratum", "psu", "weight", "lit", "group"])
        w.writerows(rows)
    return path


def run_json(path: Path, *extra: str) -> tuple[str, dict[str, Any]]:
    out = StringIO()
    call_command("literacy", "estimate", str(path), "--strata", "stratum", "--psu", "psu", "--weight", "weight",
                 "--outcome", "lit", "--by", "group", *extra, "--json", stdout=out)
    return out.getvalue(), strict_loads(out.getvalue())


def sample(weight: float | None) -> list[tuple[str, int, float, int, str]]:
    """Two strata × 3 PSUs; groups: 'mixed' (0s and 1s), 'zeros' (all 0), 'ones' (all 1), 'one' (1 respondent)."""
    rows = []
    for h in ("A", "B"):
        for psu in (1, 2, 3):
            for k in range(4):
                w = weight if weight is not None else 50.0 + 10 * psu + k
                rows.append((h, psu, w, k % 2, "mixed"))
                rows.append((h, psu, w, 0, "zeros"))
                rows.append((h, psu, w, 1, "ones"))
    rows.append(("A", 1, weight if weight is not None else 80.0, 1, "one"))
    return rows


def check_shape(result: dict[str, Any]) -> list[dict[str, Any]]:
    estimates = [result["overall"], *result["by"]["group"].values()]
    for e in estimates:
        assert set(e) == E_KEYS
        assert isinstance(e["flags"], list) and all(isinstance(f, str) for f in e["flags"])
        assert isinstance(e["df"], int) and isinstance(e["presentable"], bool)
        assert e["presentable"] is not any(f.startswith("suppress_") for f in e["flags"])
        for k in NUMBERS:
            assert e[k] is None or (isinstance(e[k], float | int) and math.isfinite(e[k]))
            # a null is always explained by a flag naming the field
            if e[k] is None:
                field = PAIRS.get(k, k)
                assert any(f.startswith(f"{field}_undefined_") for f in e["flags"]), (k, e)
    return estimates


def test_equal_weights_give_a_null_deff_with_its_reason(tmp_path: Path) -> None:
    text, result = run_json(write(tmp_path / "eq.csv", sample(1.0)))
    assert "NaN" not in text and "Infinity" not in text
    check_shape(result)
    o = result["overall"]
    assert o["deff"] is None and "deff_undefined_weights_sum_to_n" in o["flags"]
    # the other fields keep their names and meaning
    assert 0 < o["ci_low"] < o["estimate"] < o["ci_high"] < 1 and o["se"] > 0


def test_one_respondent_all_0_and_all_1_domains(tmp_path: Path) -> None:
    text, result = run_json(write(tmp_path / "s.csv", sample(None)))
    assert "NaN" not in text and "Infinity" not in text
    check_shape(result)
    g = result["by"]["group"]
    # 2 strata x 3 PSUs: df 4 everywhere (review_df); the domains have 24 respondents (suppress_n)
    assert result["overall"]["flags"] == ["review_df"] and result["overall"]["deff"] > 0
    assert g["mixed"]["flags"][:2] == ["suppress_n", "suppress_n_eff"] and g["mixed"]["deff"] > 0
    assert not any("_undefined_" in f for f in g["mixed"]["flags"])
    one = g["one"]
    assert one["n"] == 1 and one["estimate"] == 1.0 and one["ci_kg_low"] is None and one["presentable"] is False
    undefined = [f for f in one["flags"] if "_undefined_" in f]
    assert "ci_kg_undefined_single_respondent" in undefined
    assert all(f.endswith("_undefined_single_respondent") for f in undefined)
    assert one["flags"][len(undefined):] == ["suppress_n", "suppress_n_eff", "suppress_ci_undefined", "review_df"]
    for name, p in (("zeros", 0.0), ("ones", 1.0)):
        e = g[name]
        assert e["estimate"] == p and e["se"] == 0.0
        # no variance: n_eff is n and the Korn–Graubard interval is Clopper–Pearson on it (NCHS)
        assert e["n_eff"] == e["n"] == 24 and (e["ci_kg_low"] == 0.0 if p == 0 else e["ci_kg_high"] == 1.0)
        assert 0 < (e["ci_kg_high"] if p == 0 else 1 - e["ci_kg_low"]) < 1
        assert e["deff"] is None and e["flags"] == [
            "deff_undefined_all_0_or_all_1", "suppress_n", "suppress_n_eff", "review_p_0_or_1", "review_df"]


def test_text_output_shows_undefined_values_as_a_dash(tmp_path: Path) -> None:
    out = StringIO()
    call_command("literacy", "estimate", str(write(tmp_path / "eq.csv", sample(1.0))), "--strata", "stratum",
                 "--psu", "psu", "--weight", "weight", "--outcome", "lit", stdout=out)
    assert "deff -" in out.getvalue() and "nan" not in out.getvalue().lower()


def test_undefined_se_of_a_single_respondent_is_null_and_flagged() -> None:
    e = Estimate(n=1, estimate=1.0, se=math.nan, ci_low=math.nan, ci_high=math.nan, ci_logit_low=math.nan,
                 ci_logit_high=math.nan, deff=math.nan, df=0, weight_sum=3.0)
    d = strict_loads(dumps(estimate_json(e)))
    assert d["se"] is None and d["ci_low"] is None and d["deff"] is None and d["estimate"] == 1.0
    assert d["ci_kg_low"] is None and d["n_eff"] is None and d["df"] == 0 and d["presentable"] is False
    assert d["flags"] == ["se_undefined_single_respondent", "ci_undefined_single_respondent",
                          "ci_logit_undefined_single_respondent", "ci_kg_undefined_single_respondent",
                          "n_eff_undefined_single_respondent", "deff_undefined_single_respondent",
                          "suppress_n", "suppress_ci_undefined", "review_df"]


def test_finite_replaces_every_non_finite_float_with_null() -> None:
    value = {"a": math.nan, "b": [math.inf, -math.inf, 1.5, np.float64("nan")], "c": (np.float32(2.0), "x"),
             "d": {"e": np.int64(3), "f": None}}
    assert finite(value) == {"a": None, "b": [None, None, 1.5, None], "c": [2.0, "x"], "d": {"e": 3, "f": None}}
    with pytest.raises(ValueError):
        json.dumps(value, allow_nan=False)
    assert strict_loads(dumps(value))["b"] == [None, None, 1.5, None]


def test_the_api_renderer_never_emits_nan() -> None:
    """Every API response goes through `api.create_response`, hence the API's renderer."""
    assert isinstance(api.renderer, StrictJSONRenderer)
    request = RequestFactory().get("/api/")
    body = {"estimate": math.nan, "deff": math.inf, "rows": [{"se": -math.inf, "value": 0.25}],
            "numpy": np.float64("nan")}
    response = api.create_response(request, body, status=200)
    text = response.content.decode()
    assert "NaN" not in text and "Infinity" not in text
    assert strict_loads(text) == {"estimate": None, "deff": None, "rows": [{"se": None, "value": 0.25}],
                                  "numpy": None}
    # also what ninja's encoder makes of objects json cannot encode itself (a schema instance)
    text = StrictJSONRenderer().render(request, {"row": Row(se=math.nan)}, response_status=200)
    assert strict_loads(text) == {"row": {"se": None}}


class Row(Schema):
    se: float


def test_korn_graubard_reasons_when_undefined() -> None:
    base = dict(n=40, estimate=0.3, ci_low=0.3, ci_high=0.3, ci_logit_low=math.nan, ci_logit_high=math.nan,
                deff=math.nan, weight_sum=400.0, ci_kg_low=math.nan, ci_kg_high=math.nan, n_eff=math.nan)
    zero = strict_loads(dumps(estimate_json(Estimate(**base, se=0.0, df=5))))
    assert zero["ci_kg_low"] is None and zero["n_eff"] is None and zero["presentable"] is False
    assert {"ci_kg_undefined_zero_variance", "n_eff_undefined_zero_variance", "suppress_ci_undefined"} <= set(
        zero["flags"])
    no_df = strict_loads(dumps(estimate_json(Estimate(**{**base, "n_eff": 35.0}, se=0.05, df=0))))
    assert no_df["n_eff"] == 35.0 and "ci_kg_undefined_no_degrees_of_freedom" in no_df["flags"]
    assert no_df["flags"][-2:] == ["suppress_ci_undefined", "review_df"]

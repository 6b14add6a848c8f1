"""kepu.core.pii: phone and ID numbers normalised, matched by keyed hash, encrypted at rest, masked."""

from __future__ import annotations

import pytest

from kepu.core import pii
from kepu.core.errors import InputError


@pytest.mark.parametrize("raw", ["13812345678", "138 1234 5678", "+86 138-1234-5678", "0086 13812345678",
                                 "１３８１２３４５６７８", "(138)12345678"])
def test_one_mobile_number_written_many_ways_normalises_to_one_match_key(raw: str) -> None:
    assert pii.normalise_phone(raw) == "13812345678"
    assert pii.match_key("phone", pii.normalise_phone(raw)) == pii.match_key("phone", "13812345678")


@pytest.mark.parametrize("raw", ["", "12812345678", "1381234567", "138123456789", "abc", "138-1234-567x"])
def test_a_phone_number_that_is_not_one_is_refused_with_what_was_expected(raw: str) -> None:
    with pytest.raises(InputError, match="expected an 11-digit mobile"):
        pii.normalise_phone(raw)


def test_a_landline_with_area_code_is_a_phone_number() -> None:
    assert pii.normalise_phone("0519-8888 1234") == "051988881234"


def test_id_numbers_are_checked_by_their_check_digit() -> None:
    # GB 11643 check digit of 11010519491231002 is X (the standard's worked example)
    assert pii.normalise_id_number("11010519491231002x") == "11010519491231002X"
    with pytest.raises(InputError, match="check digit"):
        pii.normalise_id_number("110105194912310021")
    with pytest.raises(InputError, match="18 characters"):
        pii.normalise_id_number("1101051949123100")


def test_match_keys_depend_on_kind_and_key(settings: object) -> None:
    a = pii.match_key("phone", "13812345678")
    assert a != pii.match_key("id", "13812345678")
    settings.KEPU_PSEUDONYM_KEY = "another-key"  # type: ignore[attr-defined]
    assert pii.match_key("phone", "13812345678") != a


def test_encryption_round_trips_and_hides_the_value(settings: object) -> None:
    token = pii.encrypt("13812345678")
    assert "13812345678" not in token and pii.decrypt(token) == "13812345678"
    assert pii.encrypt("") == "" and pii.decrypt("") == ""
    settings.KEPU_PSEUDONYM_KEY = "another-key"  # type: ignore[attr-defined]
    with pytest.raises(InputError, match="cannot be read"):
        pii.decrypt(token)


def test_masks_keep_only_the_ends() -> None:
    assert pii.mask_phone("13812345678") == "138****5678"
    assert pii.mask_id_number("11010519491231002X") == "110***********002X"

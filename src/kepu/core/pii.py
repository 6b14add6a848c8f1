"""Personal data in the registries (experts, volunteers, attendees): phone and ID numbers.

PIPL asks for the least data, kept safe, shown only to those who need it. So a registry stores:
- `match_key(...)`: a keyed hash of the normalised value, the only thing duplicates are found by;
- `encrypt(...)`: the value itself, encrypted (Fernet: AES-128-CBC + HMAC), read back only for roles
  that may export it;
- `mask_phone` / `mask_id_number`: what every page shows.

Both keys are derived from KEPU_PSEUDONYM_KEY (already refused in production while it is the public
embedded value, kepu.core.checks) with HKDF under their own labels, so a match key cannot be turned
into a decryption key and the analytics pseudonyms stay unlinkable to these hashes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from kepu.core.errors import InputError

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@lru_cache(maxsize=4)
def _derive(master: str, label: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label.encode()).derive(master.encode())


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(settings.KEPU_PSEUDONYM_KEY, "kepu-pii-encrypt-v1")))


def normalise_phone(raw: str) -> str:
    """Digits only, full-width folded, +86/0086 and separators dropped. Raises InputError when what
    is left is not a mainland mobile (11 digits from 13–19) or a landline with its area code."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    digits = re.sub(r"[\s\-()（）.]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not digits.isdigit() or not (_MOBILE.match(digits) or _LANDLINE.match(digits)):
        raise InputError(f"phone {raw!r}: expected an 11-digit mobile number (13–19…) or a landline with area code")
    return digits


def normalise_id_number(raw: str) -> str:
    """An 18-character resident ID number (GB 11643-1999), upper-case X, with a valid check digit."""
    text = unicodedata.normalize("NFKC", raw or "").strip().upper().replace(" ", "")
    if not re.fullmatch(r"\d{17}[\dX]", text):
        raise InputError(f"ID number {mask_id_number(text)!r}: expected 18 characters, 17 digits then a digit or X")
    total = sum(int(d) * w for d, w in zip(text[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != text[17]:
        raise InputError(f"ID number {mask_id_number(text)!r}: the check digit does not match (mistyped?)")
    return text


def match_key(kind: str, normalised: str) -> str:
    """Keyed hash of an already normalised value: equal for the same person, useless without the key."""
    key = _derive(settings.KEPU_PSEUDONYM_KEY, "kepu-pii-match-v1")
    return hmac.new(key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode() if value else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a key change or a tampered row: never show garbage as a phone number
        raise InputError("an encrypted field cannot be read with this installation's KEPU_PSEUDONYM_KEY") from exc


def mask_phone(phone: str) -> str:
    """138****5678: enough for the person to recognise their number, not enough to call it."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


def mask_id_number(value: str) -> str:
    return f"{value[:3]}{'*' * max(len(value) - 7, 4)}{value[-4:]}" if len(value) >= 8 else "****"

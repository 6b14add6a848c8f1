"""Evidence files: what a unit attaches to show a commitment was kept or a report is true.

A file is accepted only when its extension AND its first bytes agree on one of the allowed types
(PDF, PNG, JPEG, Office documents), so an executable renamed `.pdf` is refused; the content type we
store and send back is the one we detected, never the browser's claim. Files are stored under
MEDIA_ROOT/evidence/ named by their SHA-256, so the same bytes uploaded twice are kept once; each
upload keeps its own row (original name, uploader, time). Downloads go through scope-checked views,
never through a public media URL.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from kepu.core.errors import InputError
from kepu.core.models import EvidenceFile
from kepu.core.services import audit_record
from kepu.core.uploads import check_size, limits_for, max_size_label

__all__ = [
    "ALLOWED_EXTENSIONS",
    "EvidenceFile",
    "evidence_accept_attr",
    "evidence_check",
    "evidence_max_size",
    "evidence_store",
]

_PDF = b"%PDF-"
_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc/.xls compound file


@dataclass(frozen=True)
class _Kind:
    content_type: str
    magic: bytes
    ooxml_dir: str = ""  # an OOXML document is a zip holding [Content_Types].xml and this part folder


_KINDS: dict[str, _Kind] = {
    "pdf": _Kind("application/pdf", _PDF),
    "png": _Kind("image/png", _PNG),
    "jpg": _Kind("image/jpeg", _JPEG),
    "jpeg": _Kind("image/jpeg", _JPEG),
    "docx": _Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _ZIP, "word/"),
    "xlsx": _Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP, "xl/"),
    "pptx": _Kind("application/vnd.openxmlformats-officedocument.presentationml.presentation", _ZIP, "ppt/"),
    "doc": _Kind("application/msword", _OLE2),
    "xls": _Kind("application/vnd.ms-excel", _OLE2),
}
ALLOWED_EXTENSIONS: tuple[str, ...] = tuple(_KINDS)


def evidence_accept_attr() -> str:
    """The `accept` attribute of an evidence file input."""
    return ",".join(f".{ext}" for ext in ALLOWED_EXTENSIONS)


def _allowed_label() -> str:
    return "PDF、PNG、JPEG、Word(.docx/.doc)、Excel(.xlsx/.xls)、PowerPoint(.pptx)"


def _ooxml_ok(content: bytes, part_dir: str) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, ValueError):
        return False
    if "[Content_Types].xml" not in names or not any(n.startswith(part_dir) for n in names):
        return False
    # A macro-enabled document renamed to .docx/.xlsx/.pptx carries its macros in vbaProject.bin.
    return not any(n.lower().endswith("vbaproject.bin") for n in names)


def evidence_check(content: bytes, *, name: str) -> str:
    """The detected content type of an evidence file, or InputError naming the file and what is allowed."""
    check_size(len(content), name=name, kind="evidence")
    if not content:
        raise InputError(_("文件 %(name)s 是空的。") % {"name": name})
    ext = PurePath(name).suffix.lower().lstrip(".")
    kind = _KINDS.get(ext)
    if kind is None:
        raise InputError(
            _("文件 %(name)s 的类型不能作为佐证材料；允许的类型：%(allowed)s。")
            % {"name": name, "allowed": _allowed_label()}
        )
    if not content.startswith(kind.magic) or (kind.ooxml_dir and not _ooxml_ok(content, kind.ooxml_dir)):
        raise InputError(
            _("文件 %(name)s 的内容与扩展名 .%(ext)s 不符（可能是改了扩展名的其他文件），未保存。")
            % {"name": name, "ext": ext}
        )
    return kind.content_type


def _clean_name(name: str) -> str:
    base = PurePath(name.replace("\\", "/")).name.strip() or "evidence"
    return base[-255:]


@transaction.atomic
def evidence_store(upload: Any, actor: User | None) -> EvidenceFile:
    """Check an uploaded file (size, extension and content) and store it; InputError if refused, and then
    nothing is stored. `upload` is a Django UploadedFile (or anything with `name`, `size` and `read`)."""
    name = _clean_name(getattr(upload, "name", None) or "evidence")
    check_size(int(getattr(upload, "size", 0) or 0), name=name, kind="evidence")
    content: bytes = upload.read(limits_for("evidence").max_bytes + 1)
    content_type = evidence_check(content, name=name)
    digest = hashlib.sha256(content).hexdigest()
    ext = PurePath(name).suffix.lower()
    stored = f"evidence/{digest[:2]}/{digest}{ext}"
    if not default_storage.exists(stored):
        saved = default_storage.save(stored, ContentFile(content))
        if saved != stored:  # another upload of the same bytes won the race; keep one copy
            default_storage.delete(saved)
    record = EvidenceFile.objects.create(
        sha256=digest,
        size=len(content),
        content_type=content_type,
        original_name=name,
        file=stored,
        uploaded_by=actor if actor is not None and actor.is_authenticated else None,
    )
    audit_record(actor=actor, action="evidence.upload", obj=record, label=name)
    return record


def evidence_max_size() -> str:
    """The size limit for the page that offers an evidence upload (e.g. "20.0 MB")."""
    return max_size_label("evidence")

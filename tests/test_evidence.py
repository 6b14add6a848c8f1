"""Evidence files (kepu.core.evidence): size-limited, type-checked by extension AND content, stored once per
SHA-256; a refused file leaves nothing behind (no row, no stored bytes)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from kepu.core.errors import InputError
from kepu.core.evidence import evidence_store
from kepu.core.models import AuditEntry, EvidenceFile

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 64
PE = b"MZ\x90\x00" + b"\x00" * 64


def _ooxml(part_dir: str, *, macro: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr(f"{part_dir}document.xml", "<doc/>")
        if macro:
            zf.writestr(f"{part_dir}vbaProject.bin", b"\x00")
    return buf.getvalue()


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def uploader(db: Any) -> User:
    return User.objects.create_user("uploader", password="x")


def _stored(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("报告.pdf", PDF, "application/pdf"),
        ("photo.PNG", PNG, "image/png"),
        ("现场.jpg", JPEG, "image/jpeg"),
        ("方案.docx", _ooxml("word/"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("台账.xlsx", _ooxml("xl/"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("slides.pptx", _ooxml("ppt/"), "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16, "application/msword"),
    ],
)
def test_allowed_file_is_stored_with_hash_size_type_and_uploader(
    media: Path, uploader: User, name: str, content: bytes, content_type: str
) -> None:
    # The browser's claimed type is ignored: the stored type is the detected one.
    ev = evidence_store(SimpleUploadedFile(name, content, content_type="text/plain"), uploader)

    assert ev.sha256 == hashlib.sha256(content).hexdigest()
    assert (ev.size, ev.content_type, ev.original_name, ev.uploaded_by) == (len(content), content_type, name, uploader)
    assert ev.file.name.startswith(f"evidence/{ev.sha256[:2]}/{ev.sha256}")
    with ev.file.open("rb") as fh:
        assert fh.read() == content
    assert AuditEntry.objects.filter(action="evidence.upload", object_id=str(ev.pk)).count() == 1


def test_same_content_twice_is_stored_once_and_recorded_twice(media: Path, uploader: User) -> None:
    a = evidence_store(SimpleUploadedFile("a.pdf", PDF), uploader)
    b = evidence_store(SimpleUploadedFile("b.pdf", PDF), None)

    assert a.file.name == b.file.name
    assert len(_stored(media)) == 1
    assert [e.original_name for e in EvidenceFile.objects.order_by("id")] == ["a.pdf", "b.pdf"]
    assert b.uploaded_by is None


def test_path_in_the_name_is_dropped(media: Path, uploader: User) -> None:
    ev = evidence_store(SimpleUploadedFile("../../etc/x.pdf", PDF), uploader)
    assert ev.original_name == "x.pdf"
    assert all(media in p.parents for p in _stored(media))


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("setup.pdf", PE, "does not match"),  # a Windows executable renamed .pdf
        ("run.pdf", ELF, "does not match"),
        ("picture.png", JPEG, "does not match"),
        ("notes.docx", PDF, "does not match"),
        ("renamed.docx", _ooxml("xl/"), "does not match"),  # a workbook is not a Word document
        ("macro.docx", _ooxml("word/", macro=True), "does not match"),
        ("tool.exe", PE, "cannot be used as evidence"),
        ("page.html", b"<html></html>", "cannot be used as evidence"),
        ("noextension", PDF, "cannot be used as evidence"),
        ("empty.pdf", b"", "is empty"),
    ],
)
def test_wrong_type_is_refused_and_nothing_stored(
    media: Path, uploader: User, name: str, content: bytes, words: str
) -> None:
    with pytest.raises(InputError) as err:
        evidence_store(SimpleUploadedFile(name, content), uploader)

    assert name.rsplit("/", 1)[-1] in str(err.value)
    assert words in str(err.value)
    assert EvidenceFile.objects.count() == 0
    assert _stored(media) == []
    assert not AuditEntry.objects.filter(action="evidence.upload").exists()


def test_too_large_is_refused_before_reading_and_nothing_stored(settings: Any, media: Path, uploader: User) -> None:
    settings.KEPU_UPLOAD_LIMITS = {"evidence": {"max_bytes": 1024}}
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * 2048)

    with pytest.raises(InputError) as err:
        evidence_store(big, uploader)

    assert "big.pdf" in str(err.value) and "1 KB" in str(err.value)
    assert big.tell() == 0  # refused by its declared size, not read
    assert EvidenceFile.objects.count() == 0
    assert _stored(media) == []


def test_size_understated_by_the_client_is_still_refused(settings: Any, media: Path, uploader: User) -> None:
    settings.KEPU_UPLOAD_LIMITS = {"evidence": {"max_bytes": 1024}}
    liar = SimpleUploadedFile("liar.pdf", PDF + b"0" * 2048)
    liar.size = 10

    with pytest.raises(InputError):
        evidence_store(liar, uploader)
    assert EvidenceFile.objects.count() == 0
    assert _stored(media) == []

"""Attachments: allowed types by content and extension, re-encoded images, zip and pixel bombs,
size limits, hostile names, storage under UPLOAD_ROOT, download headers and who may do what."""

import io
import struct
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils.crypto import get_random_string
from PIL import ExifTags, Image

from baosong.audit.models import Event as AuditEvent
from baosong.orgs.models import Role
from baosong.submissions import uploads, workflow
from baosong.submissions.models import Attachment, Status, Submission, UploadLimit
from baosong.submissions.workflow import DraftInput
from conftest import World, client_for, make_person

# Files built in the test -------------------------------------------------------------------------


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (8, 6), **save: Any) -> bytes:
    mode = "RGBA" if fmt in ("PNG", "WEBP") else "RGB"
    image = Image.new(mode, size, (200, 30, 30, 255) if mode == "RGBA" else (200, 30, 30))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def gif_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("P", (5, 5), 1).save(out, "GIF", transparency=0)
    return out.getvalue()


def docx_bytes() -> bytes:
    document = docx.Document()
    document.add_paragraph("安平县扎实推进基层党建工作")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_bytes() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "报送统计"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"


def iso_bmff(brand: bytes) -> bytes:
    ftyp = b"ftyp" + brand + struct.pack(">I", 0x200) + brand + b"isom"
    return struct.pack(">I", 4 + len(ftyp)) + ftyp + struct.pack(">I", 16) + b"mdat" + bytes(8)


WEBM = (
    b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08"
    b"\x42\x82\x84webm\x42\x87\x81\x04\x42\x85\x81\x02"
    + b"\x18\x53\x80\x67\x01\x00\x00\x00\x00\x00\x00\x00"
)
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(56)


def png_of_size(width: int, height: int) -> bytes:
    """A valid one-bit PNG of one colour: a few kilobytes that decode to width × height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + bytes((width + 7) // 8)
    packer = zlib.compressobj(9)
    block = row * 500
    data = b"".join(packer.compress(block) for _ in range(height // 500))
    data += packer.compress(row * (height % 500)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def office_zip(entries: dict[str, bytes], *, level: int = 6) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.fixture(scope="module")
def zip_bomb_docx() -> bytes:
    """A .docx with every required part and one entry of 200 MB of zeros (under a megabyte)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        with archive.open("word/media/image1.png", "w", force_zip64=True) as entry:
            zeros = bytes(1 << 20)
            for _ in range(200):
                entry.write(zeros)
    return out.getvalue()


# Helpers -----------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def upload_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "uploads"
    settings.UPLOAD_ROOT = root
    return root


def draft(world: World) -> Submission:
    data = DraftInput(
        item_type="info",
        kind="dynamic",
        title="安平县扎实推进基层党建工作",
        body="<p>安平县委组织部今年以来……</p>",
    )
    return workflow.create_draft(by=world.officer_county_a, unit=world.county_a, data=data)


def attach(world: World, item: Submission, name: str, content: bytes) -> Attachment:
    return workflow.add_attachment(
        by=world.officer_county_a, item=item, upload=SimpleUploadedFile(name, content)
    )


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def stored_bytes(attachment: Attachment) -> bytes:
    return uploads.path_for(attachment.storage_name).read_bytes()


def submit_through_review(world: World, item: Submission) -> None:
    workflow.submit_for_review(by=world.officer_county_a, item=item)
    for _ in range(3):
        workflow.approve(by=world.reviewer_county_a, item=item)
    item.refresh_from_db()
    assert item.status == Status.SUBMITTED


def refusal(world: World, item: Submission, name: str, content: bytes) -> str:
    with pytest.raises(ValidationError) as caught:
        attach(world, item, name, content)
    return " ".join(caught.value.messages)


# Allowed types -----------------------------------------------------------------------------------

ACCEPTED: list[tuple[str, Callable[[], bytes], str, str]] = [
    ("现场照片.jpg", lambda: image_bytes("JPEG"), "image", "image/jpeg"),
    ("现场照片.JPEG", lambda: image_bytes("JPEG"), "image", "image/jpeg"),
    ("示意图.png", lambda: image_bytes("PNG"), "image", "image/png"),
    ("动图.gif", gif_bytes, "image", "image/png"),
    ("截图.webp", lambda: image_bytes("WEBP"), "image", "image/png"),
    (
        "工作总结.docx",
        docx_bytes,
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    (
        "统计表.xlsx",
        xlsx_bytes,
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("通知.pdf", lambda: PDF, "pdf", "application/pdf"),
    ("会议视频.mp4", lambda: iso_bmff(b"isom"), "video", "video/mp4"),
    ("会议视频.mov", lambda: iso_bmff(b"qt  "), "video", "video/quicktime"),
    ("会议视频.webm", lambda: WEBM, "video", "video/webm"),
]


@pytest.mark.parametrize(("name", "build", "category", "content_type"), ACCEPTED)
def test_each_allowed_type_is_accepted_and_stored_under_a_random_name(
    world: World,
    upload_root: Path,
    name: str,
    build: Callable[[], bytes],
    category: str,
    content_type: str,
) -> None:
    item = draft(world)
    attachment = attach(world, item, name, build())
    assert attachment.category == category
    assert attachment.content_type == content_type
    assert attachment.original_name.rsplit(".", 1)[0] == name.rsplit(".", 1)[0]
    path = uploads.path_for(attachment.storage_name)
    assert path.parent == upload_root / attachment.storage_name[:2]
    assert stored_files(upload_root) == [path]
    assert path.stat().st_size == attachment.size > 0
    event = AuditEvent.objects.get(action="item.attach")
    assert event.object_id == str(item.pk)
    assert event.after is not None and event.after["name"] == attachment.original_name


def test_a_gif_or_webp_is_stored_as_png_and_named_so(world: World) -> None:
    item = draft(world)
    attachment = attach(world, item, "动图.gif", gif_bytes())
    assert attachment.original_name == "动图.png"
    assert stored_bytes(attachment).startswith(b"\x89PNG")


MISMATCHED = [
    ("图.pdf", image_bytes("PNG"), "PNG 图片"),
    ("文件.jpg", PDF, "PDF 文件"),
    ("页面.jpg", HTML, "网页"),
    ("表格.xlsx", PDF, "PDF 文件"),
    ("文档.docx", b"just some text", "不是有效的"),
    ("视频.mp4", WEBM, "WebM"),
    ("setup.exe", EXE, "不支持上传“.exe”"),
    ("logo.svg", SVG, "不支持上传“.svg”"),
    ("index.html", HTML, "不支持上传“.html”"),
    ("无扩展名", image_bytes("JPEG"), "无扩展名"),
]


@pytest.mark.parametrize(("name", "content", "message"), MISMATCHED)
def test_content_that_does_not_match_an_allowed_extension_is_refused_and_nothing_is_stored(
    world: World, upload_root: Path, name: str, content: bytes, message: str
) -> None:
    item = draft(world)
    assert message in refusal(world, item, name, content)
    assert not Attachment.objects.exists()
    assert stored_files(upload_root) == []
    assert not AuditEvent.objects.filter(action="item.attach").exists()


def test_an_empty_file_is_refused(world: World) -> None:
    assert "文件是空的" in refusal(world, draft(world), "空.pdf", b"")


def test_an_heic_photo_named_mp4_is_refused_with_advice(world: World) -> None:
    assert "HEIC" in refusal(world, draft(world), "照片.mp4", iso_bmff(b"heic"))


def test_a_broken_image_is_refused(world: World) -> None:
    truncated = image_bytes("PNG", size=(64, 64))[:60]
    assert "图片文件已损坏" in refusal(world, draft(world), "坏图.png", truncated)


# Images are re-encoded ---------------------------------------------------------------------------


def test_a_jpeg_zip_polyglot_is_stored_re_encoded_without_the_zip(world: World) -> None:
    payload = office_zip({"evil.html": HTML})
    attachment = attach(world, draft(world), "合影.jpg", image_bytes("JPEG") + payload)
    stored = stored_bytes(attachment)
    assert stored.startswith(b"\xff\xd8\xff")
    assert b"PK\x03\x04" not in stored and b"evil.html" not in stored
    assert Image.open(io.BytesIO(stored)).format == "JPEG"


def test_a_jpeg_with_a_script_appended_comes_out_without_it(world: World) -> None:
    content = image_bytes("JPEG") + b"<script>alert(1)</script>"
    attachment = attach(world, draft(world), "合影.jpg", content)
    stored = stored_bytes(attachment)
    assert b"<script>" not in stored
    assert stored != content


def test_exif_with_gps_is_dropped_and_the_orientation_applied(world: World) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # rotate 90° when shown
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (30.0, 15.0, 0.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (120.0, 10.0, 0.0)
    content = image_bytes("JPEG", size=(8, 6), exif=exif)
    assert Image.open(io.BytesIO(content)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    attachment = attach(world, draft(world), "带位置.jpg", content)
    stored = stored_bytes(attachment)
    image = Image.open(io.BytesIO(stored))
    assert image.size == (6, 8)
    assert not image.getexif()
    assert b"Exif" not in stored and b"PhoneMaker" not in stored


def test_a_decompression_bomb_image_is_refused_quickly(world: World, upload_root: Path) -> None:
    bomb = png_of_size(20000, 20000)
    assert len(bomb) < 200_000
    started = time.perf_counter()
    message = refusal(world, draft(world), "炸弹.png", bomb)
    assert time.perf_counter() - started < 1.0
    assert "像素过多" in message
    assert stored_files(upload_root) == []


def test_an_image_just_over_forty_megapixels_is_refused_by_our_own_cap(world: World) -> None:
    message = refusal(world, draft(world), "大图.png", png_of_size(7000, 6000))
    assert "7000×6000" in message and "4000 万像素" in message


# Office files: the zip is checked before anything parses it ---------------------------------------


def test_a_zip_bomb_docx_is_refused_in_under_a_second(
    world: World, upload_root: Path, zip_bomb_docx: bytes
) -> None:
    item = draft(world)
    started = time.perf_counter()
    message = refusal(world, item, "炸弹.docx", zip_bomb_docx)
    assert time.perf_counter() - started < 1.0
    assert "结构异常" in message
    assert not Attachment.objects.exists() and stored_files(upload_root) == []


def test_a_docx_with_too_many_parts_is_refused(world: World) -> None:
    entries = {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}
    entries.update({f"word/media/{i}.bin": b"x" for i in range(1000)})
    started = time.perf_counter()
    assert "超过 1000 个部件" in refusal(world, draft(world), "多.docx", office_zip(entries))
    assert time.perf_counter() - started < 1.0


def test_a_docx_with_a_highly_compressed_part_is_refused(world: World) -> None:
    entries = {
        "[Content_Types].xml": b"<Types/>",
        "word/document.xml": b"<w/>",
        "word/media/x.bin": bytes(5 * 1024 * 1024),
    }
    assert "压缩比异常" in refusal(world, draft(world), "比.docx", office_zip(entries, level=9))


@pytest.mark.parametrize(
    "bad_name", ["../../settings.py", "/etc/passwd", "word/../../x.xml", "C:\\x"]
)
def test_a_docx_with_a_path_outside_the_archive_is_refused(world: World, bad_name: str) -> None:
    entries = {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>", bad_name: b"x"}
    assert "非法路径" in refusal(world, draft(world), "路径.docx", office_zip(entries))


def test_an_xlsx_named_docx_is_refused(world: World) -> None:
    assert "缺少 word/" in refusal(world, draft(world), "表.docx", xlsx_bytes())


def test_a_zip_without_content_types_is_refused(world: World) -> None:
    content = office_zip({"word/document.xml": b"<w/>"})
    assert "[Content_Types].xml" in refusal(world, draft(world), "缺.docx", content)


# Size limits -------------------------------------------------------------------------------------


def test_the_defaults_apply_when_the_system_admin_set_nothing() -> None:
    assert uploads.DEFAULT_LIMITS == {
        "image": 10 * uploads.MB,
        "docx": 20 * uploads.MB,
        "pdf": 30 * uploads.MB,
        "xlsx": 10 * uploads.MB,
        "video": 200 * uploads.MB,
    }


def test_a_file_over_its_category_limit_is_refused(world: World, upload_root: Path) -> None:
    workflow.set_upload_limits(by=world.system_admin, limits={"pdf": 1024})
    item = draft(world)
    big = PDF + b"%" + bytes(2048)
    with pytest.raises(ValidationError) as caught:
        attach(world, item, "大.pdf", big)
    assert caught.value.code == "too_large"
    assert "PDF不能超过" in " ".join(caught.value.messages)
    assert stored_files(upload_root) == []
    assert attach(world, item, "小.pdf", PDF).category == "pdf"


def test_only_the_system_admin_may_set_limits(world: World) -> None:
    for person in (world.security_admin, world.unit_admin_province, world.officer_county_a):
        with pytest.raises(PermissionDenied):
            workflow.set_upload_limits(by=person, limits={"pdf": 1024})
    assert not UploadLimit.objects.exists()


def test_a_limit_set_back_to_the_default_leaves_no_row(world: World) -> None:
    workflow.set_upload_limits(by=world.system_admin, limits={"video": 500 * uploads.MB})
    assert UploadLimit.objects.get().max_bytes == 500 * uploads.MB
    workflow.set_upload_limits(by=world.system_admin, limits={"video": 200 * uploads.MB})
    assert not UploadLimit.objects.exists()
    assert AuditEvent.objects.filter(action="upload_limits.set").count() == 2


# Names and storage -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../settings.py", "settings.py"),
        ("..\\..\\windows\\system32\\报告.pdf", "报告.pdf"),
        ("a\x00.jpg", "a.jpg"),
        ("a\x00\x1b[31m\x7f.jpg", "a[31m.jpg"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("", "附件"),
        ("...", "附件"),
        (".jpg", "jpg"),
        ("   ", "附件"),
        ('a<b>:"c"|?*.PDF', "a_b___c____.pdf"),
        ("x" * 300 + ".jpg", "x" * 116 + ".jpg"),
        ("报" * 300 + ".docx", "报" * 115 + ".docx"),
    ],
)
def test_names_are_normalised_to_something_harmless(given: str, kept: str) -> None:
    assert uploads.normalise_name(given) == kept
    assert 0 < len(uploads.normalise_name(given)) <= uploads.NAME_MAX


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../../etc/passwd.png", "passwd.png"),
        ("a\x00.jpg", "a.jpg"),
        ("照" * 300 + ".jpg", "照" * 116 + ".jpg"),
    ],
)
def test_hostile_names_are_stored_harmlessly_and_the_file_lands_under_upload_root(
    world: World, upload_root: Path, tmp_path: Path, given: str, kept: str
) -> None:
    content = image_bytes("PNG") if given.endswith(".png") else image_bytes("JPEG")
    attachment = attach(world, draft(world), given, content)
    assert attachment.original_name == kept
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files == [uploads.path_for(attachment.storage_name)]
    assert files[0].is_relative_to(upload_root)
    assert files[0].name == attachment.storage_name and len(attachment.storage_name) == 32


def test_a_python_file_named_with_dot_dots_is_refused_and_nothing_is_written(
    world: World, tmp_path: Path
) -> None:
    assert "“.py”" in refusal(world, draft(world), "../../settings.py", image_bytes("JPEG"))
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_only_names_the_store_made_resolve_to_paths() -> None:
    with pytest.raises(ValueError):
        uploads.path_for("../../etc/passwd")


# Through HTTP: upload, download, remove ----------------------------------------------------------


def test_the_author_uploads_through_the_form_and_returns_to_the_editor(world: World) -> None:
    item = draft(world)
    client = client_for(world.officer_county_a)
    upload = SimpleUploadedFile("现场照片.jpg", image_bytes("JPEG"))
    response = client.post(f"/items/{item.pk}/attachments/", {"file": upload})
    assert response.status_code == 302
    assert response["Location"] == f"/items/{item.pk}/edit/"
    attachment = Attachment.objects.get(submission=item)
    assert attachment.original_name == "现场照片.jpg"
    assert attachment.uploaded_by == world.officer_county_a
    assert AuditEvent.objects.filter(action="item.attach", object_id=str(item.pk)).exists()


def test_an_htmx_upload_gets_the_partial_back_with_the_new_file(world: World) -> None:
    item = draft(world)
    client = client_for(world.officer_county_a)
    response = client.post(
        f"/items/{item.pk}/attachments/",
        {"file": SimpleUploadedFile("通知.pdf", PDF)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="attachments-{item.pk}"' in html and "通知.pdf" in html
    assert 'hx-encoding="multipart/form-data"' in html and "<html" not in html


def test_an_htmx_refusal_shows_the_chinese_message_in_the_partial(world: World) -> None:
    item = draft(world)
    client = client_for(world.officer_county_a)
    response = client.post(
        f"/items/{item.pk}/attachments/",
        {"file": SimpleUploadedFile("页面.jpg", HTML)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "与扩展名“.jpg”不符" in response.content.decode()
    assert not Attachment.objects.exists()


def test_the_editor_image_button_gets_json_with_the_inline_url(world: World) -> None:
    item = draft(world)
    client = client_for(world.officer_county_a)
    response = client.post(
        f"/items/{item.pk}/attachments/?format=json",
        {"files[0]": SimpleUploadedFile("图.png", image_bytes("PNG"))},
    )
    assert response.status_code == 200
    attachment = Attachment.objects.get()
    assert response.json()["url"] == f"/items/{item.pk}/attachments/{attachment.pk}/?inline=1"
    refused = client.post(
        f"/items/{item.pk}/attachments/?format=json",
        {"file": SimpleUploadedFile("图.png", PDF)},
    )
    assert refused.status_code == 422 and "不符" in refused.json()["error"]


def test_an_oversized_request_is_refused_before_its_body_is_read(world: World) -> None:
    for category in uploads.DEFAULT_LIMITS:
        workflow.set_upload_limits(by=world.system_admin, limits={category: 1024})
    item = draft(world)
    client = client_for(world.officer_county_a)
    big = SimpleUploadedFile("大.pdf", PDF + bytes(200 * 1024))
    response = client.post(f"/items/{item.pk}/attachments/?format=json", {"file": big})
    assert response.status_code == 413
    assert response.json()["error"] == "文件过大：附件不能超过 1 KB，未保存。"
    assert not Attachment.objects.exists()


def test_a_file_over_its_limit_is_dropped_while_it_arrives(world: World, upload_root: Path) -> None:
    workflow.set_upload_limits(by=world.system_admin, limits={"image": 1024})
    item = draft(world)
    client = client_for(world.officer_county_a)
    big = SimpleUploadedFile("大.jpg", image_bytes("JPEG") + bytes(8192))
    response = client.post(
        f"/items/{item.pk}/attachments/", {"file": big}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "图片不能超过 1 KB，未保存。" in response.content.decode()
    assert not Attachment.objects.exists() and stored_files(upload_root) == []


def test_an_upload_without_the_csrf_token_is_refused(world: World) -> None:
    item = draft(world)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.officer_county_a, backend="baosong.orgs.backends.ModelBackend")
    secret = get_random_string(32)
    client.cookies[settings.CSRF_COOKIE_NAME] = secret
    upload = SimpleUploadedFile("通知.pdf", PDF)
    response = client.post(f"/items/{item.pk}/attachments/", {"file": upload})
    assert response.status_code == 403
    assert not Attachment.objects.exists()
    upload = SimpleUploadedFile("通知.pdf", PDF)
    response = client.post(
        f"/items/{item.pk}/attachments/", {"file": upload, "csrfmiddlewaretoken": secret}
    )
    assert response.status_code == 302
    assert Attachment.objects.count() == 1


def test_a_download_is_an_attachment_with_the_chinese_name_and_nosniff(world: World) -> None:
    item = draft(world)
    attachment = attach(world, item, "2026年工作总结.pdf", PDF)
    client = client_for(world.officer_county_a)
    response = client.get(f"/items/{item.pk}/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    expected = "filename*=utf-8''2026%E5%B9%B4%E5%B7%A5%E4%BD%9C%E6%80%BB%E7%BB%93.pdf"
    assert expected.lower() in disposition.lower()
    assert b"".join(response.streaming_content) == PDF  # type: ignore[attr-defined]
    # Asking a PDF to be shown inline still downloads it.
    inline = client.get(f"/items/{item.pk}/attachments/{attachment.pk}/?inline=1")
    assert inline["Content-Disposition"].startswith("attachment;")


def test_an_image_may_be_shown_inline_still_with_nosniff(world: World) -> None:
    item = draft(world)
    attachment = attach(world, item, "现场照片.jpg", image_bytes("JPEG"))
    client = client_for(world.officer_county_a)
    response = client.get(f"/items/{item.pk}/attachments/{attachment.pk}/?inline=1")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("inline;")
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_an_attachment_of_another_item_is_not_found_through_this_item(world: World) -> None:
    first, second = draft(world), draft(world)
    attachment = attach(world, second, "通知.pdf", PDF)
    client = client_for(world.officer_county_a)
    assert client.get(f"/items/{first.pk}/attachments/{attachment.pk}/").status_code == 404
    remove = client.post(f"/items/{first.pk}/attachments/{attachment.pk}/remove/")
    assert remove.status_code == 404
    assert Attachment.objects.get().removed_at is None


def test_removing_is_soft_keeps_the_file_and_is_audited(world: World, upload_root: Path) -> None:
    item = draft(world)
    attachment = attach(world, item, "通知.pdf", PDF)
    client = client_for(world.officer_county_a)
    response = client.post(
        f"/items/{item.pk}/attachments/{attachment.pk}/remove/", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "通知.pdf" not in response.content.decode()
    attachment.refresh_from_db()
    assert attachment.removed_at is not None
    assert uploads.path_for(attachment.storage_name).exists()
    event = AuditEvent.objects.get(action="item.attachment_remove")
    assert event.before is not None and event.before["attachment"] == attachment.pk
    assert client.get(f"/items/{item.pk}/attachments/{attachment.pk}/").status_code == 404
    again = client.post(f"/items/{item.pk}/attachments/{attachment.pk}/remove/")
    assert again.status_code == 404


# Who may do what ---------------------------------------------------------------------------------


def test_another_officer_of_the_same_unit_gets_404(world: World) -> None:
    item = draft(world)
    attachment = attach(world, item, "通知.pdf", PDF)
    colleague = make_person("officer_county_a_2", world.county_a, Role.OFFICER)
    client = client_for(colleague)
    base = f"/items/{item.pk}/attachments/"
    assert client.get(f"{base}{attachment.pk}/").status_code == 404
    upload = SimpleUploadedFile("x.pdf", PDF)
    assert client.post(base, {"file": upload}).status_code == 404
    assert client.post(f"{base}{attachment.pk}/remove/").status_code == 404
    assert Attachment.objects.filter(removed_at__isnull=True).count() == 1


def test_the_parent_editor_sees_nothing_before_submission(world: World) -> None:
    item = draft(world)
    attachment = attach(world, item, "通知.pdf", PDF)
    client = client_for(world.editor_city)
    base = f"/items/{item.pk}/attachments/"
    assert client.get(f"{base}{attachment.pk}/").status_code == 404
    assert client.post(base, {"file": SimpleUploadedFile("x.pdf", PDF)}).status_code == 404


def test_after_submission_the_editor_downloads_but_nobody_uploads_or_removes(world: World) -> None:
    item = draft(world)
    attachment = attach(world, item, "通知.pdf", PDF)
    submit_through_review(world, item)
    base = f"/items/{item.pk}/attachments/"
    editor = client_for(world.editor_city)
    assert editor.get(f"{base}{attachment.pk}/").status_code == 200
    assert editor.post(base, {"file": SimpleUploadedFile("x.pdf", PDF)}).status_code == 403
    assert editor.post(f"{base}{attachment.pk}/remove/").status_code == 403
    author = client_for(world.officer_county_a)
    assert author.get(f"{base}{attachment.pk}/").status_code == 200
    assert author.post(base, {"file": SimpleUploadedFile("x.pdf", PDF)}).status_code == 403
    assert Attachment.objects.count() == 1 and Attachment.objects.get().removed_at is None
    with pytest.raises(PermissionDenied):
        attach(world, item, "x.pdf", PDF)


def test_the_reviewer_of_the_unit_downloads_a_draft_but_may_not_attach(world: World) -> None:
    item = draft(world)
    attachment = attach(world, item, "通知.pdf", PDF)
    client = client_for(world.reviewer_county_a)
    base = f"/items/{item.pk}/attachments/"
    assert client.get(f"{base}{attachment.pk}/").status_code == 200
    assert client.post(base, {"file": SimpleUploadedFile("x.pdf", PDF)}).status_code == 403


def test_the_system_admin_edits_the_limits_page(world: World) -> None:
    client = client_for(world.system_admin)
    page = client.get("/settings/uploads/")
    assert page.status_code == 200 and "附件大小上限" in page.content.decode()
    data = {"image": 5, "docx": 20, "pdf": 30, "xlsx": 10, "video": 500}
    response = client.post("/settings/uploads/", data)
    assert response.status_code == 302
    assert dict(UploadLimit.objects.values_list("category", "max_bytes")) == {
        "image": 5 * uploads.MB,
        "video": 500 * uploads.MB,
    }
    event = AuditEvent.objects.get(action="upload_limits.set")
    assert event.actor == world.system_admin
    assert event.after == {"image": 5 * uploads.MB, "video": 500 * uploads.MB}
    bad = client.post("/settings/uploads/", {**data, "image": 0})
    assert bad.status_code == 200 and "上限至少 1 MB" in bad.content.decode()


@pytest.mark.parametrize(
    "persona", ["security_admin", "audit_admin", "unit_admin_province", "officer_county_a"]
)
def test_others_may_not_open_or_post_the_limits_page(world: World, persona: str) -> None:
    client = client_for(getattr(world, persona))
    assert client.get("/settings/uploads/").status_code == 403
    assert client.post("/settings/uploads/", {"image": 1}).status_code == 403
    assert not UploadLimit.objects.exists()


def test_an_item_holds_a_bounded_number_of_attachments(
    world: World, monkeypatch: pytest.MonkeyPatch, upload_root: Path
) -> None:
    monkeypatch.setattr(uploads, "MAX_ATTACHMENTS_PER_ITEM", 2)
    item = draft(world)
    first = attach(world, item, "一.pdf", PDF)
    attach(world, item, "二.pdf", PDF)
    assert "最多 2 个附件" in refusal(world, item, "三.pdf", PDF)
    assert len(stored_files(upload_root)) == 2
    workflow.remove_attachment(by=world.officer_county_a, item=item, attachment=first)
    assert attach(world, item, "三.pdf", PDF).original_name == "三.pdf"

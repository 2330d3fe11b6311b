"""Attachment checks and storage: what may be uploaded, how big, and where it lands.

Rules in one place:
- the extension must be on the allow-list and agree with the content (magic bytes);
- each category has a size limit (UploadLimit rows, else DEFAULT_LIMITS), checked before reading;
- images are decoded under a pixel cap and re-encoded without metadata (drops EXIF and anything
  appended to the image); .docx/.xlsx zips are inspected from their directory before any parsing;
- files are stored under settings.UPLOAD_ROOT with random names; the original name, normalised,
  lives only in the database.
"""

import io
import os
import re
import secrets
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy
from PIL import Image, ImageOps, UnidentifiedImageError

from baosong.orgs.models import PlatformRole, User
from baosong.submissions.models import AttachmentCategory, UploadLimit

MB = 1024 * 1024

DEFAULT_LIMITS: dict[str, int] = {
    AttachmentCategory.IMAGE: 10 * MB,
    AttachmentCategory.DOCX: 20 * MB,
    AttachmentCategory.PDF: 30 * MB,
    AttachmentCategory.XLSX: 10 * MB,
    AttachmentCategory.VIDEO: 200 * MB,
}
# What the system admin may set at most; the web server's body limit must follow (docs/uploads.md).
MAX_LIMIT = 2048 * MB

MAX_IMAGE_PIXELS = 40_000_000
ZIP_MAX_ENTRIES = 1000
ZIP_MAX_TOTAL = 100 * MB
ZIP_MAX_RATIO = 100
# Tiny entries (a few hundred bytes of repeated XML) can legitimately compress past the ratio.
ZIP_RATIO_FLOOR = 64 * 1024
NAME_MAX = 120
MAX_ATTACHMENTS_PER_ITEM = 50

# extension → (category, content kind the magic bytes must show, stored content type)
EXTENSIONS: dict[str, tuple[str, str, str]] = {
    ".jpg": (AttachmentCategory.IMAGE, "jpeg", "image/jpeg"),
    ".jpeg": (AttachmentCategory.IMAGE, "jpeg", "image/jpeg"),
    ".png": (AttachmentCategory.IMAGE, "png", "image/png"),
    ".gif": (AttachmentCategory.IMAGE, "gif", "image/png"),
    ".webp": (AttachmentCategory.IMAGE, "webp", "image/png"),
    ".pdf": (AttachmentCategory.PDF, "pdf", "application/pdf"),
    ".docx": (
        AttachmentCategory.DOCX,
        "zip",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ".xlsx": (
        AttachmentCategory.XLSX,
        "zip",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ".mp4": (AttachmentCategory.VIDEO, "bmff", "video/mp4"),
    ".mov": (AttachmentCategory.VIDEO, "bmff", "video/quicktime"),
    ".webm": (AttachmentCategory.VIDEO, "webm", "video/webm"),
}
ACCEPT = ",".join(EXTENSIONS)
ALLOWED_TEXT = gettext_lazy(
    "图片（JPG、PNG、GIF、WebP）、Word 文档（.docx）、PDF、Excel 表格（.xlsx）、视频（MP4、MOV、WebM）"
)
CATEGORY_TYPES: dict[str, str] = {
    AttachmentCategory.IMAGE: "JPG、PNG、GIF、WebP",
    AttachmentCategory.DOCX: ".docx",
    AttachmentCategory.PDF: ".pdf",
    AttachmentCategory.XLSX: ".xlsx",
    AttachmentCategory.VIDEO: "MP4、MOV、WebM",
}

KIND_LABELS = {
    "jpeg": gettext_lazy("JPEG 图片"),
    "png": gettext_lazy("PNG 图片"),
    "gif": gettext_lazy("GIF 图片"),
    "webp": gettext_lazy("WebP 图片"),
    "pdf": gettext_lazy("PDF 文件"),
    "zip": gettext_lazy("ZIP 压缩包"),
    "bmff": gettext_lazy("MP4/MOV 视频"),
    "webm": gettext_lazy("WebM 视频"),
    "html": gettext_lazy("网页（HTML）"),
    "svg": gettext_lazy("SVG 矢量图"),
    "exe": gettext_lazy("可执行程序"),
}
_PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WEBP"}
# ISO-BMFF brands that are still pictures, not video.
_IMAGE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
_STORAGE_NAME = re.compile(r"^[0-9a-f]{32}$")
_WINDOWS_UNSAFE = re.compile(r'[<>:"/\\|?*]')


def refused(message: str, code: str = "refused") -> ValidationError:
    return ValidationError(message, code=code)


# Limits ------------------------------------------------------------------------------------------


def limits() -> dict[str, int]:
    """Bytes allowed per category: the system admin's rows over the defaults."""
    result = dict(DEFAULT_LIMITS)
    for category, max_bytes in UploadLimit.objects.values_list("category", "max_bytes"):
        if category in result:
            result[category] = max_bytes
    return result


def can_set_upload_limits(user: User) -> bool:
    """Only the system admin (系统管理员) configures upload limits."""
    return user.is_active and user.platform_role == PlatformRole.SYSTEM_ADMIN


def human_size(size: int) -> str:
    """10 MB, 1.5 MB, 512 KB — for messages and pages."""
    if size >= MB:
        value, unit = size / MB, "MB"
    elif size >= 1024:
        value, unit = size / 1024, "KB"
    else:
        return gettext("%(size)s 字节") % {"size": size}
    shown = f"{value:.0f}" if value == int(value) else f"{value:.1f}"
    return f"{shown} {unit}"


# Names -------------------------------------------------------------------------------------------


def normalise_name(name: str) -> str:
    """A harmless display name: no directories, no control or format characters (NUL, bidi
    overrides), no characters Windows refuses, at most NAME_MAX characters with the extension
    kept, never empty."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = _WINDOWS_UNSAFE.sub("_", name).strip().strip(".").strip()
    stem, ext = os.path.splitext(name)
    if len(ext) > 10 or not ext[1:].isalnum():
        stem, ext = name, ""
    stem = stem.strip() or "附件"
    return stem[: NAME_MAX - len(ext)].rstrip() + ext.lower()


def classify_name(name: str) -> tuple[str, str, str, str]:
    """(extension, category, expected content kind, content type) or a refusal."""
    ext = os.path.splitext(normalise_name(name))[1]
    if ext not in EXTENSIONS:
        shown = f"“{ext}”" if ext else gettext("无扩展名")
        raise refused(
            gettext("不支持上传%(shown)s类型的文件。可上传：%(allowed)s。")
            % {"shown": shown, "allowed": ALLOWED_TEXT},
            "type",
        )
    category, kind, content_type = EXTENSIONS[ext]
    return ext, category, kind, content_type


# Content -----------------------------------------------------------------------------------------


def sniff(head: bytes) -> str | None:
    """What the first bytes say the file is (kinds of EXTENSIONS, or a few known dangers)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head[4:8] == b"ftyp" and int.from_bytes(head[:4], "big") >= 12:
        return "image_bmff" if head[8:12] in _IMAGE_BRANDS else "bmff"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if b"webm" in head[:64] else "matroska"
    if head.startswith(b"MZ") or head.startswith(b"\x7fELF"):
        return "exe"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<svg" in text[:512]:
        return "svg"
    if text.startswith((b"<!doctype html", b"<html", b"<script", b"<head", b"<body", b"<?xml")):
        return "html"
    return None


@dataclass
class Checked:
    """A file that passed the checks: the category, the type to serve it with, its display name,
    and either re-encoded bytes (images) or None to copy the upload as it is."""

    category: str
    content_type: str
    name: str
    content: bytes | None
    size: int


def check(upload: "UploadedFile[Any]", limit_bytes: Mapping[str, int] | None = None) -> Checked:
    """Everything that decides whether an upload is stored; raises ValidationError otherwise."""
    ext, category, kind, content_type = classify_name(upload.name or "")
    limit = (limit_bytes or limits())[category]
    size = upload.size or 0
    label = AttachmentCategory(category).label
    if size <= 0:
        raise refused(gettext("文件是空的，未保存。"), "empty")
    if size > limit:
        raise refused(
            gettext("%(label)s不能超过 %(limit)s（此文件 %(size)s），未保存。")
            % {"label": label, "limit": human_size(limit), "size": human_size(size)},
            "too_large",
        )
    stream = _stream(upload)
    stream.seek(0)
    head = stream.read(4096)
    found = sniff(head)
    if found != kind:
        raise refused(_mismatch(ext, found), "mismatch")
    name = normalise_name(upload.name or "")
    if category == AttachmentCategory.IMAGE:
        content, content_type = reencode_image(stream, kind)
        if content_type == "image/png" and not name.endswith(".png"):
            name = os.path.splitext(name)[0][: NAME_MAX - 4] + ".png"
        return Checked(category, content_type, name, content, len(content))
    if category in (AttachmentCategory.DOCX, AttachmentCategory.XLSX):
        check_office_zip(stream, category)
    return Checked(category, content_type, name, None, size)


def _stream(upload: "UploadedFile[Any]") -> IO[bytes]:
    stream = upload.file
    if stream is None:
        raise refused(gettext("文件读取失败，请重新上传。"))
    return stream


def _mismatch(ext: str, found: str | None) -> str:
    expected = KIND_LABELS[EXTENSIONS[ext][1]]
    if found in ("image_bmff",):
        return gettext("HEIC/AVIF 格式的照片暂不支持，请在手机或电脑上转为 JPG 后再上传。")
    if found == "matroska":
        return gettext("MKV 视频暂不支持，请转为 MP4 或 WebM 后再上传。")
    if found in KIND_LABELS:
        return gettext("文件内容是%(found)s，与扩展名“%(ext)s”不符，未保存。") % {
            "found": KIND_LABELS[found],
            "ext": ext,
        }
    return gettext("文件内容不是有效的%(expected)s，与扩展名“%(ext)s”不符，未保存。") % {
        "expected": expected,
        "ext": ext,
    }


def reencode_image(stream: IO[bytes], kind: str) -> tuple[bytes, str]:
    """Decode under the pixel cap, apply the EXIF orientation and save a fresh JPEG (quality 90)
    or PNG without any metadata; whatever was hidden in or after the image is left behind."""
    pil_format = _PIL_FORMATS[kind]
    try:
        with warnings.catch_warnings():
            # Our own cap (below Pillow's) decides; Pillow's warning would only be noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            stream.seek(0)
            with Image.open(stream, formats=[pil_format]) as probe:
                _check_pixels(*probe.size)
                probe.verify()
            stream.seek(0)
            with Image.open(stream, formats=[pil_format]) as image:
                _check_pixels(*image.size)
                image.load()
                fresh = ImageOps.exif_transpose(image)
    except Image.DecompressionBombError as exc:
        raise refused(_pixels_message(None), "pixels") from exc
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise refused(gettext("图片文件已损坏或无法识别，未保存。"), "broken") from exc
    out = io.BytesIO()
    if kind == "jpeg":
        if fresh.mode not in ("RGB", "L"):
            fresh = fresh.convert("RGB")
        fresh.info = {}
        fresh.save(out, "JPEG", quality=90)
        return out.getvalue(), "image/jpeg"
    # Palette images become RGBA so their transparency survives without the palette's info.
    if fresh.mode not in ("1", "L", "LA", "RGB", "RGBA", "I", "I;16"):
        fresh = fresh.convert("RGBA")
    fresh.info = {}
    fresh.save(out, "PNG")
    return out.getvalue(), "image/png"


def _check_pixels(width: int, height: int) -> None:
    if width * height > MAX_IMAGE_PIXELS:
        raise refused(_pixels_message((width, height)), "pixels")


def _pixels_message(size: tuple[int, int] | None) -> str:
    cap = gettext("上限为 %(max)s 万像素") % {"max": MAX_IMAGE_PIXELS // 10000}
    if size is None:
        return gettext("图片像素过多，%(cap)s，未保存。") % {"cap": cap}
    return gettext("图片像素过多（%(width)s×%(height)s），%(cap)s，未保存。") % {
        "width": size[0],
        "height": size[1],
        "cap": cap,
    }


def check_office_zip(stream: IO[bytes], category: str) -> None:
    """Read only the zip directory: entry count, total and per-entry expansion, names, and the
    parts a Word or Excel file must have. Nothing is decompressed, so a zip bomb costs nothing."""
    label = AttachmentCategory(category).label
    part = "word/" if category == AttachmentCategory.DOCX else "xl/"
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise refused(
            gettext("%(label)s已损坏或不是有效的 %(label)s，未保存。") % {"label": label}, "broken"
        ) from exc
    problem = _zip_problem(entries, part)
    if problem:
        raise refused(
            gettext("%(label)s结构异常（%(problem)s），未保存。")
            % {"label": label, "problem": problem},
            "zip",
        )


def _zip_problem(entries: Iterable[zipfile.ZipInfo], part: str) -> str | None:
    total = 0
    names: set[str] = set()
    for count, info in enumerate(entries, start=1):
        if count > ZIP_MAX_ENTRIES:
            return gettext("包含超过 %(max)s 个部件") % {"max": ZIP_MAX_ENTRIES}
        total += info.file_size
        if total > ZIP_MAX_TOTAL:
            return gettext("解压后超过 %(max_mb)s MB") % {"max_mb": ZIP_MAX_TOTAL // MB}
        if info.file_size > ZIP_RATIO_FLOOR and (
            info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1)
        ):
            return gettext("压缩比异常")
        name = info.filename
        pieces = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in pieces:
            return gettext("包含非法路径")
        if "\x00" in name:
            return gettext("包含非法路径")
        if info.flag_bits & 0x1:
            return gettext("包含加密内容")
        if name.lower().endswith("vbaproject.bin"):
            return gettext("包含宏")
        names.add(name)
    if "[Content_Types].xml" not in names:
        return gettext("缺少 [Content_Types].xml")
    if not any(name.startswith(part) for name in names):
        return gettext("缺少 %(part)s 部件") % {"part": part}
    return None


# Storage -----------------------------------------------------------------------------------------


def upload_root() -> Path:
    return Path(settings.UPLOAD_ROOT)


def path_for(storage_name: str) -> Path:
    """Where a stored file lives; only names this module made are accepted."""
    if not _STORAGE_NAME.match(storage_name):
        raise ValueError("invalid storage name")
    return upload_root() / storage_name[:2] / storage_name


def store(checked: Checked, upload: "UploadedFile[Any]") -> str:
    """Write the file under a fresh random name; returns the storage name."""
    storage_name = secrets.token_hex(16)
    path = path_for(storage_name)
    path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        with os.fdopen(fd, "wb") as out:
            if checked.content is not None:
                out.write(checked.content)
            else:
                for chunk in upload.chunks():
                    out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return storage_name


def discard(storage_name: str) -> None:
    """Remove a file whose database row was never written."""
    path_for(storage_name).unlink(missing_ok=True)


# Receiving ---------------------------------------------------------------------------------------


class LimitedUploadHandler(FileUploadHandler):
    """Stops receiving a file as soon as its extension is refused or it grows past its
    category's limit, so an oversized upload is never buffered in memory or on disk."""

    def __init__(self, request: HttpRequest | None, limit_bytes: Mapping[str, int]) -> None:
        super().__init__(request)
        self.limit_bytes = limit_bytes
        self.refusal: ValidationError | None = None
        self._limit = 0
        self._received = 0
        self._label = ""

    def new_file(
        self,
        field_name: str,
        file_name: str,
        content_type: str,
        content_length: int | None,
        charset: str | None = None,
        content_type_extra: dict[str, bytes] | None = None,
    ) -> None:
        super().new_file(
            field_name, file_name, content_type, content_length, charset, content_type_extra
        )
        self._received = 0
        try:
            _ext, category, _kind, _type = classify_name(file_name)
        except ValidationError as exc:
            self.refusal = exc
            raise SkipFile from exc
        self._limit = self.limit_bytes[category]
        self._label = str(AttachmentCategory(category).label)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self._received += len(raw_data)
        if self._received > self._limit:
            self.refusal = refused(
                gettext("%(label)s不能超过 %(limit)s，未保存。")
                % {"label": self._label, "limit": human_size(self._limit)},
                "too_large",
            )
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None

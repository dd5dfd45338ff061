"""Ticket attachments: photos or PDFs of the slip or the terminal screen.

The type is decided by the file's first bytes (magic numbers), never by its name or the browser's
Content-Type; files are stored under MEDIA_ROOT with random names (Attachment.file upload_to) and
served only by a permission-checked view.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from diagnosis.core.cards import scrub_text

# content type → (magic prefix, file extension used for downloads)
SIGNATURES = (
    ("image/jpeg", b"\xff\xd8\xff", "jpg"),
    ("image/png", b"\x89PNG\r\n\x1a\n", "png"),
    ("application/pdf", b"%PDF-", "pdf"),
)
EXTENSIONS = {content_type: extension for content_type, _magic, extension in SIGNATURES}
ALLOWED_HELP = _("可上传 JPEG、PNG 照片或 PDF，每个不超过 %(size)s。")


def max_bytes() -> int:
    return int(getattr(settings, "TICKET_ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024))


def sniff_content_type(upload) -> str | None:
    """The content type told by the first bytes of `upload`, or None when it is not allowed."""
    position = upload.tell() if hasattr(upload, "tell") else 0
    try:
        upload.seek(0)
        head = upload.read(16)
    finally:
        upload.seek(position)
    for content_type, magic, _extension in SIGNATURES:
        if head.startswith(magic):
            return content_type
    return None


def clean_original_name(name: str) -> str:
    """Keep only the last path part, scrubbed of card numbers, at most 200 characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(char for char in name if char.isprintable())
    return scrub_text(name)[:200] or "file"


def validate_upload(upload) -> str:
    """Check one uploaded file; return its sniffed content type or raise ValidationError."""
    name = clean_original_name(getattr(upload, "name", ""))
    if upload.size > max_bytes():
        raise ValidationError(
            _("“%(name)s”太大：每个附件不能超过 %(size)s。"),
            code="file_too_large",
            params={"name": name, "size": filesizeformat(max_bytes())},
        )
    if upload.size == 0:
        raise ValidationError(_("“%(name)s”是空文件。"), code="file_empty", params={"name": name})
    content_type = sniff_content_type(upload)
    if content_type is None:
        raise ValidationError(
            _("“%(name)s”不是 JPEG、PNG 图片或 PDF 文件。"),
            code="file_type",
            params={"name": name},
        )
    return content_type

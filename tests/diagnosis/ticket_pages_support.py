"""Shared bits of the merchant ticket page tests."""

import io
from datetime import timedelta

from django.utils import timezone

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"0" * 64


def upload(name, content, content_type="application/octet-stream"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


def form_data(**overrides):
    when = timezone.localtime() - timedelta(hours=2)
    data = {
        "terminal": "",
        "tid": "ABCD1234",
        "transaction_time": when.strftime("%Y-%m-%dT%H:%M"),
        "amount": "128.50",
        "currency": "CNY",
        "card_number": "1234",
        "card_type": "debit",
        "response_code": "51",
        "rrn": "123456789012",
        "trace_number": "000123",
        "batch_number": "000045",
        "description": "顾客刷卡被拒，屏幕显示 51",
        "wizard_summary": "",
        "category": "",
    }
    data.update(overrides)
    return data


def stream(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


__all__ = ["JPEG", "PDF", "PNG", "form_data", "io", "stream", "upload"]

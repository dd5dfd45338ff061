"""Attachments: JPEG/PNG/PDF by content, ≤ 5 MB, random names, served only to who may see them."""

import os

import pytest

from diagnosis.models import Attachment, Ticket
from diagnosis.tickets.services import ticket_reply
from tests import factories
from tests.diagnosis.ticket_pages_support import JPEG, PDF, PNG, form_data, stream, upload


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def merchant_client(client, merchant_user):
    factories.sign_in(client, merchant_user)
    return client


def attachment_url(attachment):
    return f"/tickets/{attachment.ticket.number}/attachments/{attachment.pk}/"


@pytest.mark.django_db
def test_upload_with_new_ticket_stored_under_random_name(merchant_client, media):
    files = [
        upload("小票 6228480402564890018.jpg", JPEG, "image/jpeg"),
        upload("screen.png", PNG, "image/png"),
        upload("slip.pdf", PDF, "application/pdf"),
    ]
    response = merchant_client.post("/tickets/new/", {**form_data(), "attachments": files})
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    stored = list(ticket.attachments.order_by("pk"))
    assert [a.content_type for a in stored] == ["image/jpeg", "image/png", "application/pdf"]
    assert stored[0].original_name == "小票 622848*********0018.jpg"  # scrubbed name
    for attachment in stored:
        path = attachment.file.name
        assert path.startswith("attachments/") and "slip" not in path and "." not in path[-6:]
        assert os.path.exists(media / path)
        assert attachment.event.kind == "created"
    page = merchant_client.get(ticket.get_absolute_url()).content.decode()
    assert attachment_url(stored[0]) in page
    assert "/media/" not in page  # never a public URL


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("fake.png", b"GIF89a" + b"\x00" * 20),  # a GIF renamed .png
        ("page.pdf", b"<html><script>alert(1)</script>"),
        ("evil.jpg", b"MZ\x90\x00"),  # an executable
    ],
)
def test_content_decides_the_type(merchant_client, name, content):
    response = merchant_client.post(
        "/tickets/new/", {**form_data(), "attachments": [upload(name, content, "image/png")]}
    )
    assert response.status_code == 200
    assert "不是 JPEG、PNG 图片或 PDF 文件" in response.content.decode()
    assert not Ticket.objects.exists() and not Attachment.objects.exists()


@pytest.mark.django_db
def test_size_limit(merchant_client, settings):
    settings.TICKET_ATTACHMENT_MAX_BYTES = 50
    response = merchant_client.post(
        "/tickets/new/", {**form_data(), "attachments": [upload("big.png", PNG, "image/png")]}
    )
    assert "太大" in response.content.decode()
    assert not Ticket.objects.exists()
    en = merchant_client.post(
        "/en/tickets/new/", {**form_data(), "attachments": [upload("big.png", PNG, "image/png")]}
    )
    assert "is too large" in en.content.decode()


@pytest.mark.django_db
def test_default_limit_is_5_mb(merchant_client):
    big = PNG + b"\x00" * (5 * 1024 * 1024)
    response = merchant_client.post(
        "/tickets/new/", {**form_data(), "attachments": [upload("big.png", big, "image/png")]}
    )
    assert "太大" in response.content.decode() and not Ticket.objects.exists()


@pytest.mark.django_db
def test_at_most_five_per_upload(merchant_client):
    files = [upload(f"{n}.png", PNG, "image/png") for n in range(6)]
    response = merchant_client.post("/tickets/new/", {**form_data(), "attachments": files})
    assert "一次最多上传 5 个附件" in response.content.decode()


@pytest.fixture
def attached(ticket, merchant_user):
    event = ticket_reply(
        ticket=ticket,
        author=merchant_user,
        body="签购单照片",
        attachments=[upload("slip.png", PNG, "image/png")],
    )
    return event.attachments.get()


@pytest.mark.django_db
def test_owner_downloads_attachment(merchant_client, attached, django_assert_max_num_queries):
    url = attachment_url(attached)
    with django_assert_max_num_queries(4):  # session, user, groups, attachment+ticket+event
        response = merchant_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert "sandbox" in response["Content-Security-Policy"]
    assert stream(response) == PNG


@pytest.mark.django_db
def test_pdf_is_downloaded_not_rendered(merchant_client, ticket, merchant_user):
    event = ticket_reply(
        ticket=ticket,
        author=merchant_user,
        body="pdf",
        attachments=[upload("slip.pdf", PDF, "application/pdf")],
    )
    response = merchant_client.get(attachment_url(event.attachments.get()))
    assert response["Content-Disposition"].startswith("attachment;")


@pytest.mark.django_db
def test_other_merchant_and_anonymous_never_get_it(client, attached, other_merchant_user):
    url = attachment_url(attached)
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    factories.sign_in(client, other_merchant_user)
    assert client.get(url).status_code == 404
    # the right attachment id under another ticket's number is a 404 too
    theirs = factories.ticket(merchant=other_merchant_user.merchant)
    assert client.get(f"/tickets/{theirs.number}/attachments/{attached.pk}/").status_code == 404


@pytest.mark.django_db
def test_internal_note_attachment_only_for_agents(merchant_client, client, ticket, agent):
    note = ticket_reply(
        ticket=ticket,
        author=agent,
        body="银行回函",
        internal=True,
        attachments=[upload("bank.pdf", PDF, "application/pdf")],
    )
    attachment = note.attachments.get()
    assert merchant_client.get(attachment_url(attachment)).status_code == 404
    page = merchant_client.get(ticket.get_absolute_url()).content.decode()
    assert "bank.pdf" not in page
    factories.sign_in(client, agent)
    assert client.get(attachment_url(attachment)).status_code == 200


@pytest.mark.django_db
def test_reply_with_attachment_from_page(merchant_client, ticket):
    response = merchant_client.post(
        ticket.get_absolute_url() + "reply/",
        {"body": "", "attachments": [upload("photo.jpg", JPEG, "image/jpeg")]},
    )
    assert response.status_code == 302
    reply = ticket.events.get(kind="reply")
    assert reply.attachments.get().content_type == "image/jpeg"


@pytest.mark.django_db
def test_missing_file_is_404_not_500(merchant_client, attached, media):
    os.remove(media / attached.file.name)
    assert merchant_client.get(attachment_url(attached)).status_code == 404

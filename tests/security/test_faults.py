"""Faults: a dead database answers a bilingual 503 (API: JSON 503), loses nothing half-written
and recovers without a restart; concurrent ticket creation on PostgreSQL; upload limits."""

import threading
from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.utils import timezone

from diagnosis.models import Ticket, TicketEvent
from tests import factories

pytestmark = pytest.mark.django_db


def refused(execute, sql, params, many, context):
    raise OperationalError("could not connect to server: Connection refused")


def failing_on(fragment):
    def wrapper(execute, sql, params, many, context):
        if fragment in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    return wrapper


def ticket_form(**overrides):
    when = timezone.localtime() - timedelta(hours=2)
    return {
        "tid": "ABCD1234",
        "transaction_time": when.strftime("%Y-%m-%dT%H:%M"),
        "amount": "128.50",
        "currency": "CNY",
        "card_number": "1234",
        "card_type": "debit",
        "response_code": "51",
        "rrn": "123456789012",
        "description": "顾客刷卡被拒",
        **overrides,
    }


@pytest.mark.parametrize(
    ("url", "lang_text"),
    [("/", "服务暂时不可用"), ("/en/codes/", "Service temporarily unavailable"), ("/desk/", "")],
)
def test_pages_answer_a_bilingual_503_when_the_database_is_down(url, lang_text, agent):
    client = Client(raise_request_exception=False)
    factories.sign_in(client, agent)
    with connection.execute_wrapper(refused):
        response = client.get(url)
    assert response.status_code == 503
    body = response.content.decode()
    assert "服务暂时不可用" in body and "Service temporarily unavailable" in body  # both languages
    assert lang_text in body
    assert response["Retry-After"] == "30"
    assert "Connection refused" not in body  # no internals
    assert "Content-Security-Policy" in response  # still with the security headers


def test_api_answers_json_503_when_the_database_is_down(world):
    client = Client(raise_request_exception=False)
    with connection.execute_wrapper(refused):
        response = client.get("/api/v1/tickets", HTTP_AUTHORIZATION=f"Bearer {world.raw_token}")
        healthz = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert healthz.status_code == 503 and healthz.json()["database"] == "down"


def test_no_half_written_ticket_and_recovery_without_restart(merchant_user):
    """The connection dies between the ticket row and its first timeline event: nothing of the
    ticket stays (ticket_create is atomic). Then the database is back and the very same client,
    in the same process, records the ticket."""
    client = Client(raise_request_exception=False)
    factories.sign_in(client, merchant_user)
    with connection.execute_wrapper(failing_on('INSERT INTO "diagnosis_ticketevent"')):
        response = client.post("/tickets/new/", ticket_form())
    assert response.status_code == 503
    assert "服务暂时不可用" in response.content.decode()
    assert Ticket.objects.count() == 0 and TicketEvent.objects.count() == 0
    # Back again: no restart, the next request works.
    assert client.get("/healthz").status_code == 200
    response = client.post("/tickets/new/", ticket_form())
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.events.count() == 1


def test_api_create_is_atomic_too(world):
    import json

    client = Client(raise_request_exception=False)
    body = {
        "terminal_id": "ABCD1234",
        "transaction_time": (timezone.localtime() - timedelta(hours=1)).isoformat(),
        "amount": "10.00",
        "response_code": "05",
        "rrn": "123456789013",
    }
    before = Ticket.objects.count()
    with connection.execute_wrapper(failing_on('INSERT INTO "diagnosis_ticketevent"')):
        response = client.post(
            "/api/v1/tickets",
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {world.raw_token}",
        )
    assert response.status_code == 503
    assert Ticket.objects.count() == before


def test_database_error_outside_a_view_is_a_503_not_a_500(merchant_user):
    """A failure while saving the session (SessionMiddleware, after the view) is also a 503."""
    client = Client(raise_request_exception=False)
    with connection.execute_wrapper(failing_on('"django_session"')):
        response = client.post(
            "/accounts/login/",
            {"username": merchant_user.username, "password": factories.PASSWORD},
        )
    assert response.status_code == 503


# -- concurrency (PostgreSQL) -------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_fifty_tickets_created_concurrently():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises all writers; concurrency is tested on PostgreSQL")
    from django.db import connections

    from diagnosis.tickets.services import ticket_create

    user = factories.merchant_user()
    errors, numbers = [], []
    start = threading.Barrier(50)

    def create(n):
        try:
            start.wait(timeout=30)
            ticket = ticket_create(
                merchant=user.merchant,
                user=user,
                tid="ABCD1234",
                transaction_time=timezone.now() - timedelta(hours=1),
                amount="1.00",
                response_code="51",
                rrn=f"{n:012d}",
                description=f"并发 {n}",
            )
            numbers.append(ticket.number)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "deadlock: threads still waiting"
    assert errors == []
    assert len(numbers) == 50 and len(set(numbers)) == 50
    assert Ticket.objects.filter(merchant=user.merchant).count() == 50
    assert TicketEvent.objects.filter(ticket__merchant=user.merchant).count() == 50


# -- uploads --------------------------------------------------------------------------------------


def test_upload_settings_stream_large_files_to_disk(settings):
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= 1024 * 1024
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE < settings.TICKET_ATTACHMENT_MAX_BYTES
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 2621440
    assert "django.core.files.uploadhandler.TemporaryFileUploadHandler" in (
        settings.FILE_UPLOAD_HANDLERS
    )


@pytest.mark.slow
@pytest.mark.parametrize("size_mb", [6, 24])
def test_over_limit_upload_refused_without_reading_it(world, monkeypatch, size_mb):
    """A 6 MB or 24 MB "photo" goes to a temporary file while it arrives; the check refuses it
    by its size without reading its content back (at most the 16 bytes of the type sniff)."""
    from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

    from diagnosis.tickets import attachments

    seen, read_bytes = [], []
    real_validate = attachments.validate_upload

    def spy(upload):
        seen.append(type(upload))
        real_read = upload.file.read

        def counting_read(*args):
            chunk = real_read(*args)
            read_bytes.append(len(chunk))
            return chunk

        upload.file.read = counting_read
        return real_validate(upload)

    monkeypatch.setattr("diagnosis.tickets.forms.validate_upload", spy)
    client = Client()
    factories.sign_in(client, world.merchant_a)
    big = SimpleUploadedFile(
        "big.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * (size_mb * 1024 * 1024), "image/jpeg"
    )
    response = client.post(
        f"/en/tickets/{world.ticket.number}/reply/", {"body": "photo", "attachments": [big]}
    )
    assert response.status_code in (200, 400)
    assert "too large" in response.content.decode()
    assert seen == [TemporaryUploadedFile]  # streamed to disk, not held in memory
    assert sum(read_bytes) <= 16
    assert not world.ticket.events.filter(body="photo").exists()


def test_wrong_type_refused_cleanly(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = Client()
    factories.sign_in(client, world.merchant_a)
    fake = SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 100, "application/pdf")
    response = client.post(
        f"/tickets/{world.ticket.number}/reply/", {"body": "file", "attachments": [fake]}
    )
    assert response.status_code in (200, 400)
    assert "不是 JPEG、PNG 图片或 PDF 文件" in response.content.decode()
    assert world.ticket.attachments.count() == 1  # only the world's own


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_postgresql_goes_away_and_comes_back_without_a_restart():
    """A real failure on PostgreSQL: the app's server connection is terminated, and new
    connections are refused (the server address points at a closed port) — as when PostgreSQL
    stops. Pages answer 503, /healthz 503, nothing is stored; then PostgreSQL is reachable again
    and the same process serves and stores again."""
    if connection.vendor != "postgresql":
        pytest.skip("drives a real PostgreSQL connection; SQLite has no server to lose")
    import psycopg

    user = factories.merchant_user()
    client = Client(raise_request_exception=False)
    factories.sign_in(client, user)
    assert client.get("/tickets/").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    real_port = connection.settings_dict["PORT"]
    connection.settings_dict["PORT"] = str(_free_port())
    try:
        first = client.get("/tickets/")  # the terminated connection
        again = client.get("/en/tickets/")  # a new connection: refused
        created = client.post("/tickets/new/", ticket_form())
        health = client.get("/healthz")
    finally:
        connection.settings_dict["PORT"] = real_port
    assert [first.status_code, again.status_code, created.status_code] == [503, 503, 503]
    assert "Service temporarily unavailable" in again.content.decode()
    assert health.status_code == 503
    # Back: the same client, the same process.
    assert client.get("/healthz").status_code == 200
    assert client.get("/tickets/").status_code == 200
    assert Ticket.objects.count() == 0  # nothing half-written from the failed POST
    assert client.post("/tickets/new/", ticket_form()).status_code == 302
    assert Ticket.objects.count() == 1

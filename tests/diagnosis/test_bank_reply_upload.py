"""The upload form on the batch page (issue 17 C): preview first, nothing written until the
agent confirms; a broken file is reported line by line on the batch page; the preview cannot
be forged."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from diagnosis.models import EscalationBatch, EscalationItem, Ticket, TicketEvent
from tests import factories
from tests.diagnosis.test_bank_replies import SAMPLES, sent_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client, agent):
    factories.sign_in(client, agent)
    return client


def upload(client, batch, name, content=None):
    content = content if content is not None else (SAMPLES / name).read_bytes()
    return client.post(
        reverse("diagnosis:escalation_import", args=[batch.number]),
        {"file": SimpleUploadedFile(name, content)},
    )


def payload_of(response) -> str:
    body = response.content.decode()
    start = body.index('name="payload" value="') + len('name="payload" value="')
    return body[start : body.index('"', start)]


def test_upload_previews_then_confirm_writes(agent_client, agent, django_assert_max_num_queries):
    batch = sent_batch(agent, "english-xlsx")
    with django_assert_max_num_queries(15):
        response = upload(agent_client, batch, "english-xlsx-reply.xlsx")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-bucket="matched">3<' in body and "CMB-A-7781" in body
    assert not EscalationItem.objects.exclude(outcome="").exists()  # a preview writes nothing
    response = agent_client.post(
        reverse("diagnosis:escalation_import_confirm", args=[batch.number]),
        {"payload": payload_of(response)},
    )
    assert response.status_code == 302
    assert EscalationItem.objects.exclude(outcome="").count() == 3
    assert EscalationBatch.objects.get().status == "answered"
    page = agent_client.get(response["Location"]).content.decode()
    assert "已退款/已冲正" in page


def test_preview_query_count_does_not_grow_with_rows(
    agent_client, agent, django_assert_max_num_queries
):
    batch = sent_batch(agent)
    rows = "工单号,银行受理号,处理结果\r\n" + "".join(
        f"DD-2026-{n:06d},R{n},已退款\r\n" for n in range(500, 560)
    )
    with django_assert_max_num_queries(15):
        response = upload(agent_client, batch, "many.csv", rows.encode())
    assert 'data-bucket="unmatched">60<' in response.content.decode()


def test_a_broken_file_is_reported_on_the_batch_page(agent_client, agent):
    batch = sent_batch(agent)
    response = upload(agent_client, batch, "broken-reply.csv")
    assert response.status_code == 400
    body = response.content.decode()
    assert "第 2 行" in body and "第 3 行" in body and "第 4 行" in body
    assert "maybe later" in body


def test_a_forged_payload_is_refused(agent_client, agent):
    batch = sent_batch(agent)
    response = agent_client.post(
        reverse("diagnosis:escalation_import_confirm", args=[batch.number]),
        {"payload": "eyJmYWtlIjp0cnVlfQ:forged"},
        follow=True,
    )
    assert "预览已过期或无效" in response.content.decode()
    assert set(Ticket.objects.values_list("status", flat=True)) == {"escalated"}
    assert not TicketEvent.objects.filter(kind="reply").exists()


def test_no_file_keeps_the_form_with_a_message(agent_client, agent):
    batch = sent_batch(agent)
    response = agent_client.post(reverse("diagnosis:escalation_import", args=[batch.number]))
    assert response.status_code == 400
    assert "请选择银行的答复文件" in response.content.decode()


def test_a_draft_batch_has_no_import_form(agent_client, agent):
    from diagnosis.escalations.services import escalation_create
    from tests.diagnosis.desk_support import make_ticket

    bank = factories.bank()
    batch = escalation_create(
        actor=agent, tickets=[make_ticket(merchant=factories.merchant(acquirer=bank))]
    )
    page = agent_client.get(reverse("diagnosis:escalation_detail", args=[batch.number]))
    assert "导入银行答复" not in page.content.decode()
    assert Path(SAMPLES).is_dir()


def test_a_full_card_in_the_banks_file_is_masked_before_the_preview(agent_client, agent):
    from django.core import signing

    batch = sent_batch(agent, "fen-gbk-csv")
    response = upload(agent_client, batch, "fen-gbk-csv-reply.csv")
    body = response.content.decode()
    data = signing.loads(payload_of(response), salt=f"escalation-replies:{batch.pk}")
    for text in (body, repr(data)):
        assert "6222021234567890123" not in text.replace(" ", "")
    assert 'data-bucket="matched">3<' in body

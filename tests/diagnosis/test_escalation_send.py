"""Send to bank (issue 17 B): the batch file in the bank's template is mailed from a task to a
real SMTP server (aiosmtpd); the batch becomes "sent" with the Message-ID only when the mail
went out; a refused mail keeps the draft and says why; resending is explicit and audited."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.html import escape
from openpyxl import load_workbook

from diagnosis.escalations.services import escalation_create
from diagnosis.models import AuditEvent, EscalationBatch, EscalationTemplate, Ticket
from tests import factories
from tests.diagnosis import smtp_support
from tests.diagnosis.desk_support import make_ticket
from tests.diagnosis.smtp_support import attachment

pytestmark = pytest.mark.django_db
smtp_server = smtp_support.smtp_server
smtp_down = smtp_support.smtp_down

FULL_CARD = "6222021234567890123"


@pytest.fixture
def agent_client(client, agent):
    factories.sign_in(client, agent)
    return client


def make_batch(agent, *, template="declinedesk", count=2, **bank_kwargs):
    bank = factories.bank(
        name_zh="工商银行",
        name_en="ICBC",
        escalation_email="disputes@bank.example",
        escalation_cc="ops@bank.example; risk@bank.example",
        escalation_template=EscalationTemplate.objects.get(code=template),
        **bank_kwargs,
    )
    shop = factories.merchant(acquirer=bank)
    tickets = [
        make_ticket(
            merchant=shop,
            amount=Decimal("128.50"),
            card_masked="622848******1234",
            description="持卡人说卡号 6222 0212 3456 7890 123 被拒",
        )
        for _ in range(count)
    ]
    return escalation_create(
        actor=agent, tickets=tickets, note="请协查 ６２２２０２１２３４５６７８９０１２３"
    )


def send(client, batch, django_capture_on_commit_callbacks, **data):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("diagnosis:escalation_send", args=[batch.number]), data)


def test_send_mails_the_xlsx_to_the_bank_and_marks_the_batch_sent(
    agent_client, agent, smtp_server, django_capture_on_commit_callbacks
):
    batch = make_batch(agent)
    response = send(agent_client, batch, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    ((recipients, message),) = smtp_server.messages
    assert sorted(recipients) == ["disputes@bank.example", "ops@bank.example", "risk@bank.example"]
    assert batch.number in message["Subject"]
    name, content = attachment(message)
    assert name == f"{batch.number}.xlsx"
    sheet = load_workbook(io.BytesIO(content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][0] == "商户号（MID）" and rows[0][-1] == "工单号"
    numbers = sorted(item.ticket.number for item in batch.items.all())
    assert sorted(row[-1] for row in rows[1:]) == numbers
    for row in rows[1:]:
        assert row[4] == pytest.approx(128.5) and row[6] == "622848******1234"
        assert "*" in row[11]  # the description's card number is masked
    everything = message.as_string() + content.decode("latin-1")
    assert FULL_CARD not in everything.replace(" ", "")
    body = message.get_body(("plain",)).get_content()
    assert FULL_CARD not in body and "６２２２０２１２３４５６７８９０１２３" not in body
    batch.refresh_from_db()
    assert batch.status == "sent" and batch.send_state == "" and batch.mail_count == 1
    assert batch.message_id == message["Message-ID"].strip()
    assert set(Ticket.objects.values_list("status", flat=True)) == {"escalated"}
    assert AuditEvent.objects.filter(action="escalation.mailed", object_id=str(batch.pk)).exists()
    page = agent_client.get(reverse("diagnosis:escalation_detail", args=[batch.number]))
    assert escape(batch.message_id) in page.content.decode()


def test_a_gbk_csv_bank_gets_amounts_in_fen(
    agent_client, agent, smtp_server, django_capture_on_commit_callbacks
):
    batch = make_batch(agent, template="fen-gbk-csv", count=1)
    send(agent_client, batch, django_capture_on_commit_callbacks)
    ((_recipients, message),) = smtp_server.messages
    name, content = attachment(message)
    assert name.endswith(".csv")
    header, row = list(csv.reader(io.StringIO(content.decode("gbk"))))
    assert header[4] == "交易金额（分）" and row[4] == "12850" and row[5] == "622848******1234"
    assert row[0] == batch.items.get().ticket.number


def test_a_refused_mail_keeps_the_draft_and_says_why(
    agent_client, agent, smtp_down, django_capture_on_commit_callbacks
):
    batch = make_batch(agent)
    response = send(agent_client, batch, django_capture_on_commit_callbacks)
    batch.refresh_from_db()
    assert batch.status == "draft" and batch.send_state == "failed" and batch.message_id == ""
    assert "邮件服务器拒绝了这封邮件" in batch.send_error
    assert set(Ticket.objects.values_list("status", flat=True)) == {"new"}
    page = agent_client.get(response["Location"]).content.decode()
    assert "上次发送失败" in page and "发送给银行" in page
    assert AuditEvent.objects.filter(action="escalation.send_failed").count() == 1


def test_resend_is_explicit_and_audited(
    agent_client, agent, smtp_server, django_capture_on_commit_callbacks
):
    batch = make_batch(agent, count=1)
    send(agent_client, batch, django_capture_on_commit_callbacks)
    # sending a sent batch again without saying "resend" is refused
    send(agent_client, batch, django_capture_on_commit_callbacks)
    assert len(smtp_server.messages) == 1
    send(agent_client, batch, django_capture_on_commit_callbacks, resend="1")
    assert len(smtp_server.messages) == 2
    first, second = (message["Message-ID"].strip() for _r, message in smtp_server.messages)
    batch.refresh_from_db()
    assert first != second and batch.message_id == second and batch.mail_count == 2
    assert batch.status == "sent"
    actions = list(
        AuditEvent.objects.filter(object_id=str(batch.pk), action__startswith="escalation.")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == ["escalation.resend_requested", "escalation.resent"]


def test_a_bank_without_contacts_cannot_be_sent_to(agent_client, agent, smtp_server):
    batch = make_batch(agent)
    batch.acquirer.escalation_email = ""
    batch.acquirer.save()
    response = agent_client.post(
        reverse("diagnosis:escalation_send", args=[batch.number]), follow=True
    )
    assert "没有升级联系邮箱" in response.content.decode()
    assert EscalationBatch.objects.get().send_state == "" and smtp_server.messages == []


def test_the_send_view_queues_in_a_fixed_number_of_queries(
    agent_client, agent, django_assert_max_num_queries, settings
):
    small, large = make_batch(agent, count=1), make_batch(agent, count=8)
    counts = []
    for batch in (small, large):
        with django_assert_max_num_queries(20) as queries:
            agent_client.post(reverse("diagnosis:escalation_send", args=[batch.number]))
        counts.append(len(queries))
        assert EscalationBatch.objects.get(pk=batch.pk).send_state == "queued"
    assert counts[0] == counts[1]


def test_merchants_cannot_send(client, merchant_user, agent):
    batch = make_batch(agent)
    client.force_login(merchant_user)
    response = client.post(reverse("diagnosis:escalation_send", args=[batch.number]))
    assert response.status_code in (403, 404)
    assert EscalationBatch.objects.get().send_state == ""

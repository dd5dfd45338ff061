"""The agent's ticket page: what was entered, articles, replies vs notes, triage, history."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from diagnosis.models import Ticket, TicketEvent
from diagnosis.tickets.services import ticket_reply
from knowledge.models import Article, Category, ResponseCode
from tests import factories
from tests.diagnosis.desk_support import make_ticket

pytestmark = pytest.mark.django_db
FULL_CARD = "6228480402564890018"


@pytest.fixture
def agent_client(client, agent):
    factories.sign_in(client, agent)
    return client


def page(client, ticket):
    response = client.get(reverse("diagnosis:desk_ticket", args=[ticket.number]))
    assert response.status_code == 200
    return response


@pytest.fixture
def code51():
    category = Category.objects.create(key="funds_limits", name_zh="余额与限额", name_en="Funds")
    return ResponseCode.objects.create(
        code="51",
        category=category,
        who_acts="cardholder",
        retry="after_fix",
        meaning_zh="余额不足",
        meaning_en="Insufficient funds",
        explanation_zh="卡内余额不足。",
        explanation_en="Not enough funds.",
    )


def article(code, slug, status, title):
    item = Article.objects.create(
        slug=slug,
        category=code.category,
        status=status,
        title_zh=title,
        title_en=title,
        summary_zh="摘要",
        summary_en="Summary",
    )
    item.codes.add(code)
    return item


def test_shows_everything_the_merchant_entered_with_masked_card(agent_client, merchant_user):
    ticket = factories.ticket(
        merchant=merchant_user.merchant,
        user=merchant_user,
        card_number=FULL_CARD,
        description=f"顾客的卡 {FULL_CARD} 被拒",
        wizard_summary="问题：终端显示 51\n结论：余额不足",
        trace_number="000321",
        batch_number="000777",
    )
    body = page(agent_client, ticket).content.decode()
    for value in (
        ticket.number,
        ticket.tid,
        ticket.rrn,
        "000321",
        "000777",
        "128.50",
        ticket.merchant.mid,
        ticket.merchant.name,
        "622848*********0018",
        "结论：余额不足",
    ):
        assert value in body, value
    assert FULL_CARD not in body


def test_published_articles_for_the_code_only(agent_client, code51):
    article(code51, "low-balance", Article.Status.PUBLISHED, "余额不足怎么办")
    article(code51, "secret-draft", Article.Status.DRAFT, "草稿文章不该出现")
    ticket = make_ticket(response_code="51")
    other = make_ticket(response_code="05")
    body = page(agent_client, ticket).content.decode()
    assert "余额不足怎么办" in body and "草稿文章不该出现" not in body
    assert "余额不足怎么办" not in page(agent_client, other).content.decode()


def test_replies_and_internal_notes_are_visually_distinct(agent_client, agent):
    ticket = make_ticket()
    ticket_reply(ticket=ticket, author=agent, body="公开回复内容")
    ticket_reply(ticket=ticket, author=agent, body="内部备注内容", internal=True)
    body = page(agent_client, ticket).content.decode()
    public_at = body.index("公开回复内容")
    note_at = body.index("内部备注内容")
    assert "desk-message-public" in body[:public_at].rsplit("<li", 1)[1]
    assert "desk-message-internal" in body[:note_at].rsplit("<li", 1)[1]
    assert "商户不可见" in body


def test_reply_form_sends_public_reply_and_sets_first_response(agent_client, agent):
    ticket = make_ticket()
    response = agent_client.post(
        reverse("diagnosis:desk_ticket_reply", args=[ticket.number]),
        {"body": f"请让顾客换卡。卡号 {FULL_CARD}"},
    )
    assert response.status_code == 302
    event = ticket.events.get(kind=TicketEvent.Kind.REPLY)
    assert not event.is_internal and FULL_CARD not in event.body
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None


def test_note_form_saves_internal_note_not_counting_as_first_response(agent_client):
    ticket = make_ticket()
    response = agent_client.post(
        reverse("diagnosis:desk_ticket_note", args=[ticket.number]), {"body": "银行电话已打"}
    )
    assert response.status_code == 302
    event = ticket.events.get(kind=TicketEvent.Kind.NOTE)
    assert event.is_internal
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None


def test_empty_reply_keeps_page_with_error_and_no_event(agent_client):
    ticket = make_ticket()
    response = agent_client.post(
        reverse("diagnosis:desk_ticket_reply", args=[ticket.number]), {"body": "   "}
    )
    assert response.status_code == 400
    assert (
        "请填写内容" in response.content.decode() or "这个字段是必填项" in response.content.decode()
    )
    assert not ticket.events.exists()


def test_note_with_card_number_is_redisplayed_masked(agent_client):
    ticket = make_ticket()
    response = agent_client.post(
        reverse("diagnosis:desk_ticket_note", args=[ticket.number]),
        {"body": f"{FULL_CARD}" + "x" * 4000},  # too long → re-displayed with errors
    )
    assert response.status_code == 400
    assert FULL_CARD not in response.content.decode()


def test_status_form_offers_only_allowed_moves_and_changes_status(agent_client):
    ticket = make_ticket(status=Ticket.Status.NEW)
    form = page(agent_client, ticket).context["status_form"]
    choices = [value for value, _label in form.fields["status"].choices]
    assert "new" not in choices and "in_progress" in choices
    response = agent_client.post(
        reverse("diagnosis:desk_ticket_status", args=[ticket.number]),
        {"status": "waiting_merchant", "note": "请上传签购单"},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "waiting_merchant"


def test_refused_status_move_is_a_form_error_not_500(agent_client):
    ticket = make_ticket(status=Ticket.Status.CLOSED)
    response = agent_client.post(
        reverse("diagnosis:desk_ticket_status", args=[ticket.number]), {"status": "escalated"}
    )
    assert response.status_code == 400
    ticket.refresh_from_db()
    assert ticket.status == "closed"


def test_assign_to_me_and_unassign(agent_client, agent):
    ticket = make_ticket()
    url = reverse("diagnosis:desk_ticket_assign", args=[ticket.number])
    assert agent_client.post(url, {"assign_to_me": "1"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee == agent
    other = factories.agent()
    agent_client.post(url, {"assignee": str(other.pk)})
    ticket.refresh_from_db()
    assert ticket.assignee == other
    agent_client.post(url, {"assignee": ""})
    ticket.refresh_from_db()
    assert ticket.assignee is None
    response = agent_client.post(url, {"assignee": "999999"})
    assert response.status_code == 400


def test_priority_form(agent_client):
    ticket = make_ticket()
    url = reverse("diagnosis:desk_ticket_priority", args=[ticket.number])
    assert agent_client.post(url, {"priority": "urgent"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.priority == "urgent" and ticket.priority_rank == 0
    assert agent_client.post(url, {"priority": "whatever"}).status_code == 400


def test_overdue_first_response_is_highlighted(agent_client):
    late = make_ticket(first_response_due=timezone.now() - timedelta(hours=2))
    fine = make_ticket(first_response_due=timezone.now() + timedelta(hours=2))
    assert "首次回复已超时" in page(agent_client, late).content.decode()
    assert "首次回复已超时" not in page(agent_client, fine).content.decode()


def test_history_lists_who_changed_what_and_when(agent_client, agent, merchant_user):
    ticket = factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
    agent_client.post(
        reverse("diagnosis:desk_ticket_status", args=[ticket.number]), {"status": "in_progress"}
    )
    agent_client.post(
        reverse("diagnosis:desk_ticket_priority", args=[ticket.number]), {"priority": "high"}
    )
    agent_client.post(
        reverse("diagnosis:desk_ticket_assign", args=[ticket.number]), {"assign_to_me": "1"}
    )
    response = page(agent_client, ticket)
    history = response.content.decode().split('id="history-title"', 1)[1]
    assert "新建 → 处理中" in history
    assert "普通 → 高" in history
    assert agent.username in history and merchant_user.username in history
    kinds = [e.kind for e in response.context["events"]]
    assert kinds == ["created", "status", "priority", "assign"]


def test_reply_emails_go_out_after_commit(
    agent_client, merchant_user, django_capture_on_commit_callbacks
):
    ticket = factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(
            reverse("diagnosis:desk_ticket_reply", args=[ticket.number]), {"body": "已经处理"}
        )
    assert any(merchant_user.email in m.to for m in mail.outbox)


def test_query_count_is_constant(agent_client, agent, code51, django_assert_max_num_queries):
    article(code51, "a1", Article.Status.PUBLISHED, "文章一")
    ticket = make_ticket(response_code="51")

    def count():
        page(agent_client, ticket)  # warm per-process caches (announcements, …) first
        with CaptureQueriesContext(connection) as ctx:
            page(agent_client, ticket)
        return len(ctx.captured_queries)

    ticket_reply(ticket=ticket, author=agent, body="一")
    few = count()
    for i in range(10):
        ticket_reply(ticket=ticket, author=factories.agent(), body=f"回复 {i}", internal=i % 2 == 0)
    assert count() == few
    with django_assert_max_num_queries(14):
        page(agent_client, ticket)


def test_agent_reply_with_attachment_and_protected_download(
    agent_client, client, merchant_user, other_merchant_user, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    ticket = make_ticket(merchant=merchant_user.merchant)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    response = agent_client.post(
        reverse("diagnosis:desk_ticket_reply", args=[ticket.number]),
        {"body": "请看截图", "attachments": SimpleUploadedFile("slip.png", png, "image/png")},
    )
    assert response.status_code == 302
    attachment = ticket.attachments.get()
    url = reverse("diagnosis:ticket_attachment", args=[ticket.number, attachment.pk])
    assert url in page(agent_client, ticket).content.decode()
    assert agent_client.get(url).status_code == 200
    factories.sign_in(client, other_merchant_user)
    assert client.get(url).status_code == 404


def test_attachment_of_wrong_type_is_refused_keeping_the_text(agent_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    ticket = make_ticket()
    response = agent_client.post(
        reverse("diagnosis:desk_ticket_reply", args=[ticket.number]),
        {"body": "附件说明文字", "attachments": SimpleUploadedFile("x.png", b"MZ\x90\x00evil")},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "附件说明文字" in body  # what the agent typed is kept
    assert not ticket.events.exists()

"""Merchant ticket pages: list, new (prefill, errors, duplicates), detail, reply, close, reopen."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from diagnosis.models import Ticket, TicketEvent
from diagnosis.tickets.services import ticket_change_status, ticket_reply
from tests import factories
from tests.diagnosis.ticket_pages_support import form_data

LIST = "/tickets/"
NEW = "/tickets/new/"


@pytest.fixture
def merchant_client(client, merchant_user):
    factories.sign_in(client, merchant_user)
    return client


# --- access ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_goes_to_login_keeping_the_query_string(client, merchant_user):
    response = client.get(NEW + "?code=51&summary=%E5%90%91%E5%AF%BC")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    next_url = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    assert next_url == "/tickets/new/?code=51&summary=%E5%90%91%E5%AF%BC"
    login = client.post(
        "/accounts/login/",
        {
            "username": merchant_user.username,
            "password": factories.PASSWORD,
            "next": "/tickets/new/?code=51&summary=向导",
        },
    )
    assert login["Location"] == "/tickets/new/?code=51&summary=%E5%90%91%E5%AF%BC"
    page = client.get(login["Location"])
    assert page.status_code == 200
    assert 'value="51"' in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("path", [LIST, NEW, "/tickets/api-tokens/"])
def test_agents_and_plain_users_get_403(client, agent, path):
    factories.sign_in(client, agent)
    assert client.get(path).status_code == 403
    factories.sign_in(client, factories.user())
    assert client.get(path).status_code == 403


@pytest.mark.django_db
def test_navigation_entry_for_merchant_users(merchant_client, client):
    page = merchant_client.get("/").content.decode()
    assert 'href="/tickets/"' in page and "我的工单" in page


# --- list --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_list_shows_only_own_merchant_tickets(merchant_client, merchant_user, other_merchant_user):
    mine = factories.ticket(merchant=merchant_user.merchant)
    theirs = factories.ticket(merchant=other_merchant_user.merchant)
    body = merchant_client.get(LIST).content.decode()
    assert mine.number in body and theirs.number not in body


@pytest.mark.django_db
def test_empty_state(merchant_client):
    body = merchant_client.get(LIST).content.decode()
    assert "还没有工单" in body and 'href="/tickets/new/"' in body


@pytest.mark.django_db
def test_status_filter_and_htmx_fragment(merchant_client, merchant_user, agent):
    open_ticket = factories.ticket(merchant=merchant_user.merchant)
    done = factories.ticket(merchant=merchant_user.merchant)
    ticket_change_status(ticket=done, actor=agent, status="resolved")
    body = merchant_client.get(LIST + "?status=resolved").content.decode()
    assert done.number in body and open_ticket.number not in body
    body = merchant_client.get(LIST + "?status=open").content.decode()
    assert open_ticket.number in body and done.number not in body
    fragment = merchant_client.get(LIST + "?status=resolved", HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert "<html" not in html and 'id="ticket-results"' in html and done.number in html
    full = merchant_client.get(LIST + "?status=resolved").content.decode()
    assert "<html" in full
    empty = merchant_client.get(LIST + "?status=escalated").content.decode()
    assert "没有这个状态的工单" in empty
    assert merchant_client.get(LIST + "?status=bogus").status_code == 200


@pytest.mark.django_db
def test_keyset_pagination(merchant_client, merchant_user):
    tickets = [factories.ticket(merchant=merchant_user.merchant) for _ in range(23)]
    newest_first = [t.number for t in reversed(tickets)]
    first = merchant_client.get(LIST)
    page1 = first.context["page"]
    assert [t.number for t in page1.items] == newest_first[:20]
    assert page1.has_next and not page1.has_previous
    second = merchant_client.get(LIST + f"?after={page1.next_cursor}").context["page"]
    assert [t.number for t in second.items] == newest_first[20:]
    assert not second.has_next and second.has_previous
    back = merchant_client.get(LIST + f"?before={second.previous_cursor}").context["page"]
    assert [t.number for t in back.items] == newest_first[:20]
    assert not back.has_previous
    # A forged cursor is just "first page", never an error
    assert merchant_client.get(LIST + "?after=garbage").status_code == 200


def count_queries(client, path, **extra):
    client.get(path, **extra)  # warm up: per-process caches (announcements) fill on first use
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **extra)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_list_query_count_constant(merchant_client, merchant_user, django_assert_max_num_queries):
    factories.ticket(merchant=merchant_user.merchant)
    few = count_queries(merchant_client, LIST)
    for _ in range(30):
        factories.ticket(merchant=merchant_user.merchant)
    with django_assert_max_num_queries(few + 1):  # the 30 new rows, not cached yet: one query
        merchant_client.get(LIST)
    with django_assert_max_num_queries(few):  # from the row cache: keys only again
        merchant_client.get(LIST)
    assert count_queries(merchant_client, LIST + "?status=new") == few
    assert count_queries(merchant_client, LIST, HTTP_HX_REQUEST="true") <= few
    assert few <= 8


# --- new ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_new_form_prefilled_from_wizard(merchant_client, terminal):
    from knowledge.models import Category

    Category.objects.create(key="funds_limits", name_zh="余额与限额", name_en="Funds")
    response = merchant_client.get(
        NEW + "?code=51&category=funds_limits&summary=已重试两次，仍显示 51"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="response_code"' in body and 'value="51"' in body
    assert "已重试两次，仍显示 51" in body  # shown read-only and carried in a hidden field
    assert 'type="hidden" name="wizard_summary" value="已重试两次，仍显示 51"' in body
    assert "余额与限额" in body
    assert f'value="{terminal.pk}"' in body  # own terminals offered
    assert "CVV" in body  # the safety notice, and no CVV/PIN/expiry field
    for forbidden in ('name="cvv', 'name="pin', 'name="expiry'):
        assert forbidden not in body


@pytest.mark.django_db
def test_new_form_ignores_bad_prefill(merchant_client):
    body = merchant_client.get(NEW + "?code=%3Cscript%3E&category=nope").content.decode()
    assert "<script>" not in body


@pytest.mark.django_db
def test_create_ticket_from_form(merchant_client, merchant_user, terminal):
    response = merchant_client.post(NEW, form_data(terminal=terminal.pk, tid=""))
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == ticket.get_absolute_url()
    assert ticket.terminal == terminal and ticket.tid == terminal.tid
    assert ticket.created_by == merchant_user and ticket.card_type == "debit"
    detail = merchant_client.get(response["Location"]).content.decode()
    assert ticket.number in detail and "已记录工单" in detail


@pytest.mark.django_db
def test_foreign_terminal_cannot_be_chosen(merchant_client):
    foreign = factories.terminal()
    response = merchant_client.post(NEW, form_data(terminal=foreign.pk, tid=""))
    assert response.status_code == 200 and not Ticket.objects.exists()
    assert "请选择本商户的终端。" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "zh", "en"),
    [
        ("amount", "0", "金额必须大于 0。", "The amount must be greater than 0."),
        (
            "amount",
            "1.999",
            "金额最多两位小数。",
            "The amount can have at most two decimal places.",
        ),
        ("amount", "abc", "请填写正确的金额，例如 128.50。", "Please enter a valid amount"),
        ("tid", "", "请选择终端或填写终端号（TID）。", "Please choose a terminal or enter"),
        ("transaction_time", "", "请填写交易时间。", "Please enter the transaction time."),
        ("rrn", "12", "参考号（RRN）是 12 位数字或字母。", "(RRN) is 12 digits or letters."),
        ("trace_number", "12x", "请填写 6 位数字。", "6 digits"),
        ("card_number", "12", "请填写卡号后 4 位", "last 4 digits"),
        ("response_code", "510", "最多 2 个字符", "At most 2 characters"),
    ],
)
def test_validation_messages_both_languages(merchant_client, field, value, zh, en):
    zh_body = merchant_client.post(NEW, form_data(**{field: value})).content.decode()
    en_body = merchant_client.post("/en" + NEW, form_data(**{field: value})).content.decode()
    assert zh in zh_body
    assert en in en_body
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_future_transaction_time_rejected(merchant_client):
    future = (timezone.localtime() + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    body = merchant_client.post(NEW, form_data(transaction_time=future)).content.decode()
    assert "交易时间不能晚于现在。" in body and not Ticket.objects.exists()


@pytest.mark.django_db
def test_errors_keep_what_was_typed_but_mask_the_card(merchant_client):
    full = "6228480402564890018"
    data = form_data(
        amount="0",
        card_number="6228 4804 0256 4890 018",
        description=f"卡号 {full} 被拒，已重试",
        rrn="ABC123456789",
    )
    body = merchant_client.post(NEW, data).content.decode()
    assert "金额必须大于 0。" in body
    assert full not in body and "6228 4804 0256 4890 018" not in body
    assert 'value="622848*********0018"' in body  # masked, not lost
    assert "卡号 622848*********0018 被拒，已重试" in body
    assert 'value="ABC123456789"' in body and 'value="0"' in body


@pytest.mark.django_db
def test_duplicates_pointed_out_before_saving(merchant_client, merchant_user):
    existing = factories.ticket(merchant=merchant_user.merchant, tid="ABCD1234", rrn="123456789012")
    first = merchant_client.post(NEW, form_data(description="第二次提交"))
    body = first.content.decode()
    assert first.status_code == 200
    assert "可能已经记录过" in body and existing.number in body
    assert 'name="confirm_duplicates"' in body and "第二次提交" in body
    assert Ticket.objects.count() == 1
    second = merchant_client.post(NEW, form_data(description="第二次提交", confirm_duplicates="on"))
    assert second.status_code == 302
    assert Ticket.objects.count() == 2


@pytest.mark.django_db
def test_new_page_query_count(merchant_client, merchant_user, django_assert_max_num_queries):
    for _ in range(5):
        factories.terminal(merchant=merchant_user.merchant)
    few = count_queries(merchant_client, NEW)
    for _ in range(20):
        factories.terminal(merchant=merchant_user.merchant)
    with django_assert_max_num_queries(few):
        merchant_client.get(NEW)


# --- detail ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_detail_timeline_hides_internal_notes(merchant_client, ticket, agent):
    ticket_reply(ticket=ticket, author=agent, body="请上传签购单照片")
    ticket_reply(ticket=ticket, author=agent, body="内部：商户疑似套现", internal=True)
    ticket_change_status(ticket=ticket, actor=agent, status="waiting_merchant")
    from diagnosis.tickets.services import ticket_assign, ticket_set_priority

    ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    ticket_set_priority(ticket=ticket, actor=agent, priority="urgent")
    body = merchant_client.get(ticket.get_absolute_url()).content.decode()
    assert "请上传签购单照片" in body
    assert "等待商户回复" in body
    assert "疑似套现" not in body
    assert "紧急" not in body  # priority is internal
    assert ticket.card_masked in body and ticket.tid in body


@pytest.mark.django_db
def test_other_merchants_ticket_is_404(client, ticket, other_merchant_user):
    factories.sign_in(client, other_merchant_user)
    url = ticket.get_absolute_url()
    assert client.get(url).status_code == 404
    assert client.post(url + "reply/", {"body": "hi"}).status_code == 404
    assert client.post(url + "close/").status_code == 404
    assert client.post(url + "reopen/").status_code == 404
    assert client.get("/tickets/DD-2026-999999/").status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == "new" and ticket.events.count() == 1


@pytest.mark.django_db
def test_agent_on_merchant_page_goes_to_the_desk(client, ticket, agent):
    factories.sign_in(client, agent)
    response = client.get(ticket.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"] == reverse("diagnosis:desk_ticket", args=[ticket.number])
    factories.sign_in(client, factories.user())
    assert client.get(ticket.get_absolute_url()).status_code == 403


@pytest.mark.django_db
def test_detail_query_count_constant(merchant_client, ticket, agent, django_assert_max_num_queries):
    ticket_reply(ticket=ticket, author=agent, body="第一条")
    few = count_queries(merchant_client, ticket.get_absolute_url())
    for n in range(15):
        ticket_reply(ticket=ticket, author=agent, body=f"回复 {n}")
        ticket_reply(ticket=ticket, author=agent, body=f"备注 {n}", internal=True)
    with django_assert_max_num_queries(few):
        merchant_client.get(ticket.get_absolute_url())


@pytest.mark.django_db
def test_reply_from_page(merchant_client, ticket, merchant_user):
    response = merchant_client.post(
        ticket.get_absolute_url() + "reply/", {"body": "补充：卡号 6228480402564890018"}
    )
    assert response.status_code == 302
    event = ticket.events.get(kind=TicketEvent.Kind.REPLY)
    assert event.author == merchant_user and not event.is_internal
    assert "6228480402564890018" not in event.body and "622848*********0018" in event.body


@pytest.mark.django_db
def test_empty_reply_redisplayed_with_error(merchant_client, ticket):
    response = merchant_client.post(ticket.get_absolute_url() + "reply/", {"body": "  "})
    assert response.status_code == 200
    assert "请填写回复内容或添加附件。" in response.content.decode()


@pytest.mark.django_db
def test_close_and_reopen_from_page(merchant_client, ticket):
    url = ticket.get_absolute_url()
    assert "关闭工单" in merchant_client.get(url).content.decode()
    merchant_client.post(url + "close/", {"note": "已解决，谢谢"})
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    page = merchant_client.get(url).content.decode()
    assert "重新打开工单" in page and 'action="' + url + 'reply/"' not in page
    assert merchant_client.post(url + "reply/", {"body": "x"}).status_code == 302
    assert not ticket.events.filter(kind="reply").exists()
    merchant_client.post(url + "reopen/")
    ticket.refresh_from_db()
    assert ticket.status == "in_progress"


@pytest.mark.django_db
def test_reopen_refused_after_14_days(merchant_client, ticket, agent):
    ticket_change_status(ticket=ticket, actor=agent, status="resolved")
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=timezone.now() - timedelta(days=20))
    url = ticket.get_absolute_url()
    assert "重新打开工单" not in merchant_client.get(url).content.decode()
    response = merchant_client.post(url + "reopen/", follow=True)
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    assert "14 天" in response.content.decode()


@pytest.mark.django_db
def test_get_not_allowed_on_actions(merchant_client, ticket):
    assert merchant_client.get(ticket.get_absolute_url() + "close/").status_code == 405


def test_url_names_kept():
    assert reverse("diagnosis:ticket_list") == LIST
    assert reverse("diagnosis:ticket_new") == NEW
    assert reverse("diagnosis:ticket_detail", args=["DD-2026-000001"]) == (
        "/tickets/DD-2026-000001/"
    )


@pytest.mark.django_db
def test_pages_in_english(merchant_client, ticket):
    listing = merchant_client.get("/en/tickets/")
    assert "My tickets" in listing.content.decode()
    assert listing["Vary"] and "HX-Request" in listing["Vary"]
    new = merchant_client.get("/en/tickets/new/").content.decode()
    assert "Record a declined transaction" in new and "Card number" in new
    assert "You can upload JPEG or PNG photos or PDFs" in new and "可上传" not in new
    detail = merchant_client.get(f"/en/tickets/{ticket.number}/").content.decode()
    assert "Transaction details" in detail and "New" in detail


@pytest.mark.django_db
def test_filter_chips_live_inside_the_htmx_fragment(merchant_client, ticket):
    html = merchant_client.get(LIST + "?status=new", HTTP_HX_REQUEST="true").content.decode()
    assert 'class="tag tk-filter-current"' in html and 'aria-current="true"' in html

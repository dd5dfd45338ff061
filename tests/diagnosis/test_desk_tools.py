"""Desk tools: knowledge-base answers, macros (placeholders, actions, usage), merge and link."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from diagnosis.desk import macros as desk_macros
from diagnosis.models import (
    Attachment,
    AuditEvent,
    EscalationBatch,
    EscalationItem,
    Macro,
    Ticket,
    TicketEvent,
    TicketLink,
)
from diagnosis.tickets import merge
from diagnosis.tickets.services import ticket_reply
from knowledge.models import Article, Category, ResponseCode
from tests import factories

pytestmark = pytest.mark.django_db
FULL_CARD = "6222 0212 3456 7890 123"


@pytest.fixture
def agent_client(client, agent):
    factories.sign_in(client, agent)
    return client


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


@pytest.fixture
def article51(code51):
    item = Article.objects.create(
        slug="insufficient-funds",
        category=code51.category,
        status=Article.Status.PUBLISHED,
        title_zh="余额不足怎么办",
        title_en="What to do about insufficient funds",
        summary_zh="摘要",
        summary_en="Summary",
        merchant_steps_zh="请顾客换一张卡\n或者分两笔付款",
        merchant_steps_en="Ask for another card\nOr split the payment",
        customer_script_zh="您的卡余额不足，可以换一张卡。",
        customer_script_en="Your card has insufficient funds; another card may work.",
    )
    item.codes.add(code51)
    return item


def english_merchant_ticket(**kwargs):
    owner = factories.merchant_user(language="en")
    return factories.ticket(merchant=owner.merchant, user=owner, **kwargs)


def desk_url(name, *args):
    return reverse(f"diagnosis:{name}", args=args)


# --- knowledge-base answers ----------------------------------------------------------------------


def test_kb_draft_is_in_the_merchants_language_not_the_agents(agent_client, article51):
    ticket = english_merchant_ticket(response_code="51")
    page = agent_client.get(desk_url("desk_ticket", ticket.number)).content.decode()
    draft_url = desk_url("desk_kb_draft", ticket.number, article51.slug)
    assert draft_url in page  # the "insert" link beside the related article

    response = agent_client.get(draft_url)  # the agent reads the desk in Chinese
    assert response.status_code == 200
    body = response.context["reply_form"]["body"].value()
    assert "Insufficient funds" in body
    assert "1. Ask for another card" in body and "2. Or split the payment" in body
    assert "another card may work" in body
    assert "http://testserver/kb/" in body or article51.get_absolute_url() in body
    assert "余额不足" not in body
    assert "余额不足怎么办" in response.content.decode()  # the page itself stays Chinese


def test_kb_draft_htmx_swaps_only_the_textarea(agent_client, article51, merchant_user):
    ticket = factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
    response = agent_client.get(
        desk_url("desk_kb_draft", ticket.number, article51.slug), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert html.strip().startswith("<textarea") and 'id="id_body"' in html
    assert "余额不足" in html and "请顾客换一张卡" in html
    assert "<html" not in html


def test_kb_draft_refuses_unpublished_and_non_agents(agent_client, client, article51, ticket):
    article51.status = Article.Status.DRAFT
    article51.save()
    assert (
        agent_client.get(desk_url("desk_kb_draft", ticket.number, article51.slug)).status_code
        == 404
    )
    factories.sign_in(client, ticket.created_by)
    assert client.get(desk_url("desk_kb_draft", ticket.number, "x")).status_code == 403


def test_kb_draft_query_count(agent_client, article51, django_assert_max_num_queries):
    ticket = english_merchant_ticket()
    url = desk_url("desk_kb_draft", ticket.number, article51.slug)
    agent_client.get(url, HTTP_HX_REQUEST="true")
    with django_assert_max_num_queries(8):
        agent_client.get(url, HTTP_HX_REQUEST="true")


# --- macros --------------------------------------------------------------------------------------


def make_macro(**kwargs):
    defaults = {
        "name_zh": "已联系银行",
        "name_en": "Bank contacted",
        "body_zh": "{merchant} 您好，工单 {ticket}（应答码 {code}，{amount}，卡 {card}）"
        "已提交银行，受理号 {bank_reference}。",
        "body_en": "Hello {merchant}, ticket {ticket} (code {code}, {amount}, card {card}) "
        "is with the bank, reference {bank_reference}.",
    }
    return Macro.objects.create(**{**defaults, **kwargs})


def test_macro_placeholders_in_the_merchants_language(agent):
    ticket = english_merchant_ticket(card_number=FULL_CARD, amount="88.00")
    batch = EscalationBatch.objects.create(number="EB-1", acquirer=ticket.acquirer)
    EscalationItem.objects.create(batch=batch, ticket=ticket, bank_reference="BR-778")
    text = desk_macros.render_macro(make_macro(), ticket)
    assert text.startswith(f"Hello {ticket.merchant.name}, ticket {ticket.number}")
    assert "code 51, 88.00 CNY" in text and "reference BR-778" in text
    assert ticket.card_masked in text and "7890123" not in text.replace(" ", "")


def test_macro_body_scrubbed_and_unknown_placeholders_refused():
    macro = make_macro(body_zh=f"卡号 {FULL_CARD} {{nope}}")
    with pytest.raises(ValidationError):
        macro.full_clean()
    macro.refresh_from_db()
    assert "3456 7890" not in macro.body_zh


def test_apply_macro_replies_sets_status_priority_assignee_and_counts(agent_client, agent):
    ticket = english_merchant_ticket()
    macro = make_macro(
        set_status=Ticket.Status.WAITING_MERCHANT, set_priority="high", assign_to_actor=True
    )
    response = agent_client.post(desk_url("desk_macro_apply", ticket.number, macro.pk))
    assert response.status_code == 302
    ticket.refresh_from_db()
    macro.refresh_from_db()
    assert ticket.status == Ticket.Status.WAITING_MERCHANT
    assert ticket.priority == "high" and ticket.assignee == agent
    assert ticket.first_responded_at is not None
    reply = TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.REPLY)
    assert reply.body.startswith("Hello") and not reply.is_internal
    assert macro.usage_count == 1 and macro.last_used_at is not None
    assert AuditEvent.objects.filter(action="macro.apply", object_id=str(ticket.pk)).exists()


def test_apply_macro_with_forbidden_status_changes_nothing(agent_client):
    ticket = english_merchant_ticket()
    macro = make_macro(set_status=Ticket.Status.NEW)  # "new" cannot be reached again
    ticket.status = Ticket.Status.IN_PROGRESS
    ticket.save()
    agent_client.post(desk_url("desk_macro_apply", ticket.number, macro.pk), follow=True)
    ticket.refresh_from_db()
    macro.refresh_from_db()
    assert ticket.status == Ticket.Status.IN_PROGRESS
    assert not TicketEvent.objects.filter(ticket=ticket, kind="reply").exists()  # rolled back
    assert macro.usage_count == 0


def test_macro_list_filter_and_draft(agent_client, ticket):
    make_macro(name_zh="已联系银行", name_en="Bank contacted")
    make_macro(name_zh="请补充小票", name_en="Send the receipt", body_zh="请上传小票 {ticket}")
    page = agent_client.get(desk_url("desk_ticket", ticket.number), {"mq": "小票"})
    names = [m.name_zh for m in page.context["macros"]]
    assert names == ["请补充小票"]
    macro = Macro.objects.get(name_zh="请补充小票")
    draft = agent_client.get(desk_url("desk_macro_draft", ticket.number, macro.pk))
    assert draft.context["reply_form"]["body"].value() == f"请上传小票 {ticket.number}"
    Macro.objects.filter(pk=macro.pk).update(is_active=False)
    assert (
        agent_client.get(desk_url("desk_macro_draft", ticket.number, macro.pk)).status_code == 404
    )


def test_merchants_cannot_apply_macros(client, ticket):
    macro = make_macro()
    factories.sign_in(client, ticket.created_by)
    assert client.post(desk_url("desk_macro_apply", ticket.number, macro.pk)).status_code == 403
    assert Macro.objects.get().usage_count == 0


def test_macro_admin_only_for_admins_and_lead_agents(client, agent, superuser):
    from django.contrib.auth.models import Permission

    factories.sign_in(client, agent)
    assert client.get("/admin/diagnosis/macro/").status_code in (302, 403)
    lead = factories.agent(is_staff=True)
    lead.user_permissions.add(Permission.objects.get(codename="change_macro"))
    client.logout()
    factories.sign_in(client, lead)
    assert client.get("/admin/diagnosis/macro/").status_code == 200


def test_desk_page_query_count_does_not_grow_with_macros_and_links(
    agent_client, agent, merchant_user
):
    ticket = factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
    url = desk_url("desk_ticket", ticket.number)

    def count():
        agent_client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            agent_client.get(url)
        return len(ctx.captured_queries)

    make_macro()
    few = count()
    for i in range(5):
        make_macro(name_zh=f"模板 {i}")
        other = factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
        merge.ticket_link(ticket=ticket, other=other, actor=agent)
    assert count() == few


# --- merge and link ------------------------------------------------------------------------------


def test_merge_moves_timeline_and_attachments_and_closes_duplicate(
    agent_client, agent, merchant_user, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    settings.MEDIA_ROOT = tmp_path
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    duplicate = factories.ticket(  # the older one: the kept ticket's page must still start right
        merchant=merchant_user.merchant,
        user=merchant_user,
        description="第一次提交的说明",
        attachments=[SimpleUploadedFile("小票.png", png, content_type="image/png")],
    )
    kept = factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
    ticket_reply(ticket=duplicate, author=merchant_user, body="同一笔交易又提交了一次")
    response = agent_client.post(
        desk_url("desk_ticket_merge", kept.number), {"other": duplicate.number.lower()}
    )
    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.status == Ticket.Status.CLOSED
    assert TicketLink.objects.get(source=duplicate, target=kept).kind == "merged"
    assert Attachment.objects.filter(ticket=kept).count() == 1
    assert TicketEvent.objects.filter(ticket=kept, body="同一笔交易又提交了一次").exists()
    assert TicketEvent.objects.filter(ticket=kept, kind="created").count() == 1
    origin = TicketEvent.objects.get(ticket=kept, body__startswith=f"合并自工单 {duplicate.number}")
    assert "第一次提交的说明" in origin.body and origin.attachments.count() == 1
    pointer = TicketEvent.objects.get(ticket=duplicate, kind="status")
    assert kept.number in pointer.body and not pointer.is_internal
    assert AuditEvent.objects.filter(action="ticket.merge", object_id=str(kept.pk)).exists()

    # The merchant: the kept ticket shows the moved message, the duplicate the pointer.
    client = factories.sign_in(Client(), merchant_user)
    kept_page = client.get(reverse("diagnosis:ticket_detail", args=[kept.number]))
    assert "同一笔交易又提交了一次" in kept_page.content.decode()
    assert "第一次提交的说明" in kept_page.content.decode()
    assert "小票.png" in kept_page.content.decode()  # the moved attachment, under its entry
    dup_page = client.get(reverse("diagnosis:ticket_detail", args=[duplicate.number]))
    assert dup_page.context["merged_into"].target == kept  # the banner with its link
    assert reverse("diagnosis:ticket_detail", args=[kept.number]) in dup_page.content.decode()
    assert "rating_form" not in dup_page.context  # a merged duplicate is not rated
    # The agent's pages show where it went and what came in.
    assert (
        kept.number in agent_client.get(desk_url("desk_ticket", duplicate.number)).content.decode()
    )
    assert (
        duplicate.number in agent_client.get(desk_url("desk_ticket", kept.number)).content.decode()
    )


def test_merge_refused_across_merchants_and_twice(agent_client, agent, merchant_user):
    kept = factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
    stranger = factories.ticket()
    agent_client.post(desk_url("desk_ticket_merge", kept.number), {"other": stranger.number})
    stranger.refresh_from_db()
    assert stranger.status == Ticket.Status.NEW
    assert TicketEvent.objects.filter(ticket=stranger).count() == 1
    with pytest.raises(ValidationError):
        merge.ticket_merge(kept=kept, duplicate=stranger, actor=agent)
    with pytest.raises(ValidationError):
        merge.ticket_merge(kept=kept, duplicate=kept, actor=agent)
    duplicate = factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
    merge.ticket_merge(kept=kept, duplicate=duplicate, actor=agent)
    with pytest.raises(ValidationError):
        merge.ticket_merge(kept=kept, duplicate=duplicate, actor=agent)


def test_merchant_cannot_merge_or_link(client, merchant_user):
    kept = factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
    duplicate = factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
    factories.sign_in(client, merchant_user)
    url = desk_url("desk_ticket_merge", kept.number)
    assert client.post(url, {"other": duplicate.number}).status_code == 403
    assert not TicketLink.objects.exists()


def test_link_and_unlink_related_tickets_across_merchants(agent_client, agent, merchant_user):
    ticket = factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
    other = factories.ticket()
    agent_client.post(desk_url("desk_ticket_link", ticket.number), {"other": other.number})
    link = TicketLink.objects.get()
    assert link.kind == "related"
    page = agent_client.get(desk_url("desk_ticket", other.number))
    assert [t.number for t in page.context["ticket_links"]["related"]] == [ticket.number]
    agent_client.post(desk_url("desk_ticket_link", other.number), {"other": ticket.number})
    assert TicketLink.objects.count() == 1  # already linked
    agent_client.post(desk_url("desk_ticket_unlink", other.number, link.pk))
    assert not TicketLink.objects.exists()
    response = agent_client.post(
        desk_url("desk_ticket_link", ticket.number), {"other": "DD-0000-000000"}, follow=True
    )
    assert "DD-0000-000000" in response.content.decode()


def test_merge_view_query_count(agent_client, merchant_user, django_assert_max_num_queries):
    kept = factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
    duplicates = [
        factories.ticket(merchant=merchant_user.merchant, user=merchant_user) for _ in range(2)
    ]
    for i in range(8):
        ticket_reply(ticket=duplicates[1], author=merchant_user, body=f"补充 {i}")
    counts = []
    for duplicate in duplicates:
        with CaptureQueriesContext(connection) as ctx:
            agent_client.post(
                desk_url("desk_ticket_merge", kept.number), {"other": duplicate.number}
            )
        counts.append(len(ctx.captured_queries))
    assert counts[1] <= counts[0] + 2  # moving more events is one UPDATE, not one per event
    assert counts[0] < 45


# --- query counts of the remaining views (constant as data grows) --------------------------------


def _queries(client, method, url, data=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        getattr(client, method)(url, data or {})
    return len(ctx.captured_queries)


def test_macro_and_link_views_query_counts_do_not_grow(agent_client, agent, merchant_user):
    def run():
        ticket = factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
        other = factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
        macro = make_macro(set_priority="high")
        counts = {
            "draft": _queries(
                agent_client,
                "get",
                desk_url("desk_macro_draft", ticket.number, macro.pk),
            ),
            "apply": _queries(
                agent_client, "post", desk_url("desk_macro_apply", ticket.number, macro.pk)
            ),
            "link": _queries(
                agent_client,
                "post",
                desk_url("desk_ticket_link", ticket.number),
                {"other": other.number},
            ),
        }
        link = TicketLink.objects.get(source=ticket)
        counts["unlink"] = _queries(
            agent_client, "post", desk_url("desk_ticket_unlink", ticket.number, link.pk)
        )
        return ticket, counts

    def least(runs):  # each view's fewest queries over the runs
        return {view: min(counts[view] for _ticket, counts in runs) for view in runs[0][1]}

    run()  # warm the session and the per-process caches (content types, …)
    before = [run(), run()]
    ticket = before[0][0]
    for i in range(10):
        make_macro(name_zh=f"模板 {i}")
        ticket_reply(ticket=ticket, author=agent, body=f"回复 {i}")
    few, more = least(before), least([run(), run()])
    # Ten more macros and replies would add at least ten queries to a view that grows with them;
    # applying a macro varies by one query with the clock on a busy machine (seen in CI, either
    # way round), which is not growth.
    assert all(more[view] <= few[view] + (view == "apply") for view in few), (few, more)
    assert few["draft"] <= 16 and few["apply"] <= 40 and few["link"] <= 14 and few["unlink"] <= 12

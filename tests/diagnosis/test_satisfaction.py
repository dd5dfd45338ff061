"""Satisfaction: the merchant rates a resolved ticket from its page or the e-mail's signed,
single-use link; the insight dashboard shows the figures per agent, category and bank."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from diagnosis.models import SatisfactionRating, Ticket
from diagnosis.tickets import satisfaction
from diagnosis.tickets.services import ticket_assign, ticket_change_status
from tests import factories

pytestmark = pytest.mark.django_db


def resolve(ticket, agent):
    ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    ticket_change_status(ticket=ticket, actor=agent, status=Ticket.Status.RESOLVED)
    return ticket


@pytest.fixture
def merchant_client(merchant_user):
    return factories.sign_in(Client(), merchant_user)


def rate_url(ticket):
    return reverse("diagnosis:ticket_rate", args=[ticket.number])


def test_merchant_rates_a_resolved_ticket_once_from_its_page(
    merchant_client, merchant_user, ticket, agent
):
    page = merchant_client.get(ticket.get_absolute_url()).content.decode()
    assert rate_url(ticket) not in page  # not resolved yet
    assert merchant_client.post(rate_url(ticket), {"score": "5"}).status_code == 403

    resolve(ticket, agent)
    assert rate_url(ticket) in merchant_client.get(ticket.get_absolute_url()).content.decode()
    response = merchant_client.post(
        rate_url(ticket), {"score": "4", "comment": "卡号 6222 0212 3456 7890 123 的问题解决了"}
    )
    assert response.status_code == 302
    rating = SatisfactionRating.objects.get(ticket=ticket)
    assert rating.score == 4 and rating.agent == agent and rating.source == "page"
    assert rating.category_id == ticket.category_id and rating.acquirer_id == ticket.acquirer_id
    assert "3456" not in rating.comment.replace(" ", "")
    page = merchant_client.get(ticket.get_absolute_url()).content.decode()
    assert "4 / 5" in page and rate_url(ticket) not in page

    again = merchant_client.post(rate_url(ticket), {"score": "1"})
    assert again.status_code == 400
    assert SatisfactionRating.objects.get(ticket=ticket).score == 4


def test_invalid_score_keeps_comment_and_other_merchants_get_404(
    merchant_client, ticket, agent, other_merchant_user
):
    resolve(ticket, agent)
    response = merchant_client.post(rate_url(ticket), {"score": "9", "comment": "还行"})
    assert response.status_code == 400
    assert "还行" in response.content.decode()
    stranger = factories.sign_in(Client(), other_merchant_user)
    assert stranger.post(rate_url(ticket), {"score": "1"}).status_code == 404
    assert not SatisfactionRating.objects.exists()


def test_resolution_mail_carries_a_signed_single_use_link(
    ticket, agent, merchant_user, django_capture_on_commit_callbacks
):
    ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_change_status(ticket=ticket, actor=agent, status=Ticket.Status.RESOLVED)
    body = next(m.body for m in mail.outbox if merchant_user.email in m.to)
    path = re.search(r"https?://[^/\s]+(/tickets/rate/\S+/)", body).group(1)

    anonymous = Client()
    form = anonymous.get(path)
    assert form.status_code == 200 and ticket.number in form.content.decode()
    bad = anonymous.post(path, {"score": "0"})
    assert bad.status_code == 400
    assert anonymous.post(path, {"score": "2", "comment": "慢"}).status_code == 200
    rating = SatisfactionRating.objects.get(ticket=ticket)
    assert rating.score == 2 and rating.source == "email" and rating.rated_by is None
    # Single use: the second visit only says thanks, and a second post changes nothing.
    anonymous.post(path, {"score": "5"})
    assert SatisfactionRating.objects.get(ticket=ticket).score == 2
    # A tampered link is refused.
    assert anonymous.get(path[:-3] + "xx/").status_code == 404


def test_link_stops_working_when_the_ticket_is_resolved_again(ticket, agent):
    resolve(ticket, agent)
    old = satisfaction.rating_url(ticket)
    ticket_change_status(ticket=ticket, actor=agent, status=Ticket.Status.IN_PROGRESS)
    assert Client().get(old).status_code == 404
    ticket.resolved_at = None
    with pytest.raises(ValidationError):  # not resolved: no rating
        satisfaction.rating_create(ticket=ticket, score=3, via_link=True)


def test_dashboard_shows_figures_per_agent_category_and_bank(
    client, agent, merchant_user, django_assert_max_num_queries
):
    factories.sign_in(client, agent)
    url = reverse("diagnosis:insight")
    assert "商户满意度" in client.get(url).content.decode()
    for score in (5, 3):
        ticket = factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
        resolve(ticket, agent)
        satisfaction.rating_create(ticket=ticket, score=score, user=merchant_user)
    cache.clear()  # the dashboard's figures are cached for INSIGHT_CACHE_SECONDS
    page = client.get(url)
    figures = page.context["satisfaction"]
    assert figures["total"]["count"] == 2 and figures["total"]["avg"] == 4
    assert figures["by_agent"] == [{"label": agent.username, "avg": 4, "count": 2}]
    assert figures["by_bank"][0]["count"] == 2
    assert "4.0" in page.content.decode()

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        return len(ctx.captured_queries)

    few = count()
    for _ in range(3):
        ticket = factories.ticket(user=factories.merchant_user())
        resolve(ticket, factories.agent())
        satisfaction.rating_create(ticket=ticket, score=1, via_link=True)
    assert count() == few
    with django_assert_max_num_queries(4):  # warm: the figures come from the cache
        client.get(url)


def test_rating_link_view_query_count(ticket, agent, django_assert_max_num_queries):
    resolve(ticket, agent)
    url = satisfaction.rating_url(ticket)
    with django_assert_max_num_queries(6):
        Client().get(url)
    with django_assert_max_num_queries(14):
        Client().post(url, {"score": "5"})


def test_rate_from_page_query_count(merchant_client, merchant_user, agent):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for _ in range(2):
        ticket = factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
        resolve(ticket, agent)
        merchant_client.get(ticket.get_absolute_url())
        with CaptureQueriesContext(connection) as ctx:
            merchant_client.post(rate_url(ticket), {"score": "5"})
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] <= 12

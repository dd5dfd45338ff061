"""'Was this helpful?': one vote per visitor per article, rate-limited, with and without htmx."""

import pytest

from knowledge import services
from knowledge.models import Article, ArticleVote
from tests import factories
from tests.knowledge.helpers import article

pytestmark = pytest.mark.django_db

URL = "/articles/insufficient-balance/vote/"


def counts():
    item = Article.objects.get(slug="insufficient-balance")
    return item.helpful_yes, item.helpful_no


def test_vote_without_javascript_redirects_back_with_thanks(client, content):
    response = client.post(URL, {"helpful": "yes"})
    assert response.status_code == 302
    assert response["Location"] == "/articles/insufficient-balance/#feedback"
    assert counts() == (1, 0)
    assert "dd_voter" in response.cookies
    page = client.get("/articles/insufficient-balance/").content.decode()
    assert "谢谢你的反馈" in page
    assert "你已经评价过这篇文章了" in page  # the form is gone for this visitor


def test_vote_with_htmx_swaps_the_fragment(client, content):
    response = client.post(URL, {"helpful": "no", "comment": "没写清楚"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and 'id="feedback"' in body
    assert "谢谢你的反馈" in body
    assert counts() == (0, 1)
    assert ArticleVote.objects.get().comment == "没写清楚"


def test_one_vote_per_visitor_per_article(client, content):
    client.post(URL, {"helpful": "yes"})
    again = client.post(URL, {"helpful": "no"}, HTTP_HX_REQUEST="true")
    assert "已经评价过" in again.content.decode()
    assert counts() == (1, 0)
    assert ArticleVote.objects.count() == 1
    # Another article is another vote.
    client.post("/articles/wrong-pin/vote/", {"helpful": "yes"})
    assert ArticleVote.objects.count() == 2


def test_another_visitor_can_vote(client, content, django_user_model):
    client.post(URL, {"helpful": "yes"})
    client.cookies.clear()
    client.post(URL, {"helpful": "yes"})
    assert counts() == (2, 0)


def test_logged_in_user_votes_once_across_devices(client, content, merchant_user):
    factories.sign_in(client, merchant_user)
    client.post(URL, {"helpful": "yes"})
    client.cookies.pop("dd_voter", None)
    factories.sign_in(client, merchant_user)
    client.post(URL, {"helpful": "no"})
    assert counts() == (1, 0)


def test_comment_is_scrubbed_of_card_numbers(client, content):
    client.post(URL, {"helpful": "no", "comment": "顾客的卡 6222 0212 3456 7890 128 刷不了"})
    comment = ArticleVote.objects.get().comment
    assert "6222021234567890128" not in comment.replace(" ", "")
    assert "622202*********0128" in comment


def test_invalid_vote_keeps_the_comment_and_says_what_is_wrong(client, content):
    response = client.post(URL, {"helpful": "maybe", "comment": "我的意见"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "我的意见" in body
    assert 'class="error"' in body
    assert ArticleVote.objects.count() == 0
    too_long = client.post(URL, {"helpful": "yes", "comment": "长" * 1001}, HTTP_HX_REQUEST="true")
    assert too_long.status_code == 200 and "<html" not in too_long.content.decode()
    assert ArticleVote.objects.count() == 0


def test_votes_are_rate_limited_per_ip(client, content, settings):
    slugs = list(Article.objects.published().values_list("slug", flat=True))
    for slug in slugs[: services.VOTE_RATE_LIMIT]:
        client.cookies.clear()
        client.post(f"/articles/{slug}/vote/", {"helpful": "yes"})
    assert ArticleVote.objects.count() == services.VOTE_RATE_LIMIT
    client.cookies.clear()
    limited = client.post(f"/articles/{slugs[-1]}/vote/", {"helpful": "yes"})
    assert limited.status_code == 429
    assert "太频繁" in limited.content.decode()
    live = client.post(f"/articles/{slugs[-1]}/vote/", {"helpful": "yes"}, HTTP_HX_REQUEST="true")
    assert live.status_code == 200 and "太频繁" in live.content.decode()
    assert ArticleVote.objects.count() == services.VOTE_RATE_LIMIT
    # Another address is not affected.
    other = client.post(f"/articles/{slugs[-1]}/vote/", {"helpful": "yes"}, REMOTE_ADDR="10.9.8.7")
    assert other.status_code == 302


def test_drafts_and_unknown_articles_take_no_votes(client, content):
    draft = article(status=Article.Status.DRAFT)
    assert client.post(f"/articles/{draft.slug}/vote/", {"helpful": "yes"}).status_code == 404
    assert client.post("/articles/nope/vote/", {"helpful": "yes"}).status_code == 404
    assert client.get(URL).status_code == 405


def test_vote_needs_csrf(content):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(URL, {"helpful": "yes"}).status_code == 403


def test_vote_query_count(client, content, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        client.post(URL, {"helpful": "yes"}, HTTP_HX_REQUEST="true")

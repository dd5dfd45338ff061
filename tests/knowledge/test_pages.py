"""Public knowledge pages: home, search, codes, categories, articles (zh + en, htmx + plain)."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from knowledge.models import Article, ResponseCode
from tests import factories
from tests.knowledge.helpers import article, grow

pytestmark = pytest.mark.django_db

# url → the most queries it may take for an anonymous visitor (index and banner warm).
PAGES = {
    "/": 3,
    "/en/": 3,
    "/search/": 2,
    "/search/?q=余额不足": 1,
    "/en/search/?q=insufficient+balance&page=1": 1,
    "/codes/": 3,
    "/codes/51/": 4,
    "/en/codes/A0/": 4,
    "/categories/terminal/": 6,
    "/articles/mac-key-error/": 4,
    "/en/articles/insufficient-balance/": 4,
}


def warm(client):
    client.get("/search/?q=warm")  # builds the search index once per process
    client.get("/")  # caches the announcement banner


@pytest.mark.parametrize("url", list(PAGES))
def test_query_counts_are_small_and_do_not_grow_with_data(
    client, content, url, django_assert_max_num_queries
):
    warm(client)
    with django_assert_max_num_queries(PAGES[url]) as before:
        assert client.get(url).status_code == 200
    grow(articles=30, codes=30)
    warm(client)
    with django_assert_max_num_queries(PAGES[url]) as after:
        assert client.get(url).status_code == 200
    assert len(after.captured_queries) == len(before.captured_queries)


def test_head_requests_work_and_do_not_count_as_lookups(client, content):
    assert client.head("/codes/51/").status_code == 200
    assert client.head("/").status_code == 200
    assert ResponseCode.objects.get(code="51").lookups == 0


def test_logged_in_pages_stay_constant_too(client, content, editor, django_assert_max_num_queries):
    factories.sign_in(client, editor)
    warm(client)
    for url in ("/articles/mac-key-error/", "/codes/51/", "/"):
        with django_assert_max_num_queries(8) as before:
            client.get(url)
        grow(articles=5, codes=5)
        with django_assert_max_num_queries(8) as after:
            client.get(url)
        assert len(after.captured_queries) == len(before.captured_queries), url


def test_home_shows_search_categories_and_most_looked_up_codes(client, content):
    body = client.get("/").content.decode()
    assert 'action="/search/"' in body and 'name="q"' in body
    assert "余额与限额" in body and 'href="/categories/funds_limits/"' in body
    assert 'href="/codes/51/"' in body
    english = client.get("/en/").content.decode()
    assert "Balance and limits" in english and 'href="/en/codes/51/"' in english


def test_most_looked_up_codes_follow_lookups(client, content):
    for _ in range(3):
        client.get("/codes/75/")
    assert ResponseCode.objects.get(code="75").lookups == 3
    popular = client.get("/").context["popular_codes"]
    assert popular[0].code == "75"
    # Approvals are not declines: never among the most looked-up.
    for _ in range(5):
        client.get("/codes/00/")
    assert ResponseCode.objects.get(code="00").lookups == 5
    cache.clear()  # the home page is served from the page cache for PAGE_CACHE_SECONDS
    assert "00" not in [c.code for c in client.get("/").context["popular_codes"]]


def test_code_page_has_everything_a_merchant_needs(client, content):
    response = client.get("/codes/51/")
    body = response.content.decode()
    code = ResponseCode.objects.get(code="51")
    assert code.meaning_zh in body
    assert "由谁处理" in body and "持卡人" in body
    assert "能否重试" in body and code.get_retry_display() in body
    assert code.say_to_customer_zh in body
    assert 'class="checklist"' in body and 'type="checkbox"' in body
    assert 'href="/articles/insufficient-balance/"' in body
    assert reverse("diagnosis:ticket_new") + "?code=51&amp;category=funds_limits" in body
    assert reverse("diagnosis:wizard") in body


def test_code_page_in_english(client, content):
    body = client.get("/en/codes/51/").content.decode()
    assert "Not enough balance or available credit" in body
    assert "Who acts" in body and "Cardholder" in body
    assert 'href="/en/articles/insufficient-balance/"' in body


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("/codes/a0/", "/codes/A0/"),
        ("/en/codes/a0/", "/en/codes/A0/"),
        ("/codes/a5/", "/codes/A5/"),
    ],
)
def test_code_urls_are_case_insensitive(client, content, url, target):
    response = client.get(url)
    assert response.status_code == 301
    assert response["Location"] == target


def test_unknown_code_is_a_helpful_404(client, content):
    response = client.get("/codes/Q7/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Q7" in body
    assert 'href="/codes/' in body  # suggestions
    assert reverse("diagnosis:wizard") in body
    assert reverse("diagnosis:ticket_new") + "?code=Q7" in body
    assert client.get("/codes/%3Cb%3E/").status_code == 404  # odd input: still a 404 page
    assert "<b>" not in client.get("/codes/%3Cb%3E/").content.decode().split("<main")[1]


def test_non_decline_code_says_so(client, content):
    assert "不是拒绝" in client.get("/codes/00/").content.decode()


def test_code_list_groups_codes_by_category(client, content):
    body = client.get("/codes/").content.decode()
    assert body.count('class="code-link"') == ResponseCode.objects.count() >= 78
    assert 'id="cat-funds_limits"' in body


def test_category_page(client, content):
    body = client.get("/categories/pin/").content.decode()
    assert "密码问题" in body
    assert 'href="/articles/wrong-pin/"' in body
    assert 'href="/codes/55/"' in body
    assert reverse("diagnosis:ticket_new") + "?category=pin" in body
    assert client.get("/categories/nope/").status_code == 404


def test_category_page_paginates(client, content):
    grow(articles=30, codes=0)
    first = client.get("/categories/terminal/")
    assert first.context["page"].paginator.num_pages == 2
    assert 'rel="next"' in first.content.decode()
    assert client.get("/categories/terminal/?page=2").status_code == 200
    assert client.get("/categories/terminal/?page=abc").status_code == 200


def test_article_page_has_checklist_links_and_record_link(client, content):
    body = client.get("/articles/insufficient-balance/").content.decode()
    item = Article.objects.get(slug="insufficient-balance")
    assert item.title_zh in body
    assert body.count('type="checkbox"') == 6
    assert "持卡人要做什么" in body and "以后如何避免" in body
    assert 'href="/articles/know-your-card-limits/"' in body  # related article
    assert 'href="/codes/51/"' in body  # related code
    assert reverse("diagnosis:ticket_new") + "?code=51&amp;category=funds_limits" in body
    assert reverse("diagnosis:wizard") in body
    assert 'id="feedback"' in body


def test_links_inside_content_keep_the_reader_in_english(client, content):
    body = client.get("/en/articles/insufficient-balance/").content.decode()
    assert 'href="/en/articles/wrong-amount/"' in body
    assert 'href="/en/codes/51/"' in body
    assert 'href="/articles/wrong-amount/"' not in body
    chinese = client.get("/articles/insufficient-balance/").content.decode()
    assert 'href="/articles/wrong-amount/"' in chinese


@pytest.mark.parametrize("who", [None, "merchant_user", "agent", "other_merchant_user"])
def test_drafts_are_invisible_to_the_public(client, content, request, who):
    draft = article(status=Article.Status.DRAFT, title_zh="未发布草稿")
    if who:
        factories.sign_in(client, request.getfixturevalue(who))
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert "未发布草稿" not in client.get("/categories/terminal/").content.decode()


@pytest.mark.parametrize("who", ["editor", "superuser"])
def test_editors_preview_drafts(client, content, request, who):
    draft = article(status=Article.Status.DRAFT, title_zh="未发布草稿")
    factories.sign_in(client, request.getfixturevalue(who))
    response = client.get(draft.get_absolute_url())
    assert response.status_code == 200
    body = response.content.decode()
    assert "草稿预览" in body and "未发布草稿" in body
    assert reverse("admin:knowledge_article_change", args=[draft.pk]) in body
    assert 'id="feedback"' not in body  # drafts take no votes


def test_search_page_plain_get(client, content):
    response = client.get("/search/", {"q": "钱不够"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body
    # Results open through /search/open/ (counted for the content-gap page), named not by URL.
    opener = "/search/open/?q=%E9%92%B1%E4%B8%8D%E5%A4%9F&amp;to="
    assert f'href="{opener}c%3A51"' in body and f'href="{opener}a%3Ainsufficient-balance"' in body
    assert 'value="钱不够"' in body  # the box keeps what was typed


def test_search_page_htmx_returns_the_results_fragment(client, content):
    response = client.get("/search/", {"q": "钱不够"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and "<form" not in body
    assert 'href="/search/open/?q=%E9%92%B1%E4%B8%8D%E5%A4%9F&amp;to=c%3A51"' in body
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("/search/?q=a0", "/codes/A0/"),
        ("/search/?q=+51+", "/codes/51/"),
        ("/en/search/?q=05", "/en/codes/05/"),
    ],
)
def test_typing_an_exact_code_goes_straight_to_it(client, content, url, target):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == target


def test_exact_code_while_typing_shows_the_code_instead_of_redirecting(client, content):
    response = client.get("/search/", {"q": "a0"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'href="/codes/A0/"' in response.content.decode()


def test_search_empty_state_suggests_wizard_and_recording(client, content):
    body = client.get("/search/", {"q": "qwxzv"}).content.decode()
    assert "没有找到" in body
    assert reverse("diagnosis:wizard") in body
    assert reverse("diagnosis:ticket_new") in body
    coded = client.get("/search/", {"q": "Q9"}).content.decode()
    assert reverse("diagnosis:ticket_new") + "?code=Q9" in coded
    live = client.get("/search/", {"q": "qwxzv"}, HTTP_HX_REQUEST="true").content.decode()
    assert reverse("diagnosis:wizard") in live and "<html" not in live


def test_search_without_query_offers_categories(client, content):
    body = client.get("/search/").content.decode()
    assert 'href="/categories/pin/"' in body
    assert client.get("/search/", HTTP_HX_REQUEST="true").content.decode().strip() == ""


def test_search_escapes_what_was_typed(client, content):
    body = client.get("/search/", {"q": '<script>alert(1)</script>"'}).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


def test_search_paginates_and_survives_bad_input(client, content):
    response = client.get("/search/", {"q": "卡", "page": "999"})
    assert response.status_code == 200
    assert client.get("/search/", {"q": "x" * 5000}).status_code == 200
    assert client.get("/search/", {"q": "卡", "page": "-1"}).status_code == 200
    assert client.post("/search/", {"q": "卡"}).status_code == 405

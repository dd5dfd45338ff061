"""The public page cache (config/pagecache.py): fast, right after edits, safe per visitor."""

import datetime as dt
import re

import pytest
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.utils import timezone

from diagnosis.models import WizardRun
from knowledge.models import Announcement, Article, ResponseCode
from knowledge.signals import ANNOUNCEMENTS_KEY
from tests import factories
from tests.diagnosis.wizard_support import seed_small, tokens_url

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"')


def token_in(response) -> str:
    return TOKEN.search(response.content.decode()).group(1)


def without_tokens(response) -> str:
    return TOKEN.sub("", response.content.decode()).replace(token_in(response), "")


def test_a_repeat_visit_runs_no_query_and_shows_the_same_page(
    client, content, django_assert_num_queries
):
    first = client.get("/articles/insufficient-balance/")
    with django_assert_num_queries(0):
        second = client.get("/articles/insufficient-balance/")
    assert second.status_code == 200
    assert without_tokens(second) == without_tokens(first)
    assert "private" in second["Cache-Control"] and "no-cache" in second["Cache-Control"]
    assert {"Cookie", "HX-Request"} <= {v.strip() for v in second["Vary"].split(",")}


def test_cached_pages_count_the_look_up_every_time(client, content, django_assert_num_queries):
    client.get("/codes/61/")
    with django_assert_num_queries(1):  # the counter's UPDATE (batched outside the tests)
        client.get("/codes/61/")
    for _ in range(2):
        client.get("/codes/61/")
    client.head("/codes/61/")  # HEAD is not a look-up
    assert ResponseCode.objects.get(code="61").lookups == 4


def test_each_visitor_gets_a_csrf_token_of_their_own_that_works(content):
    alice, bob = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    page_a = alice.get("/articles/insufficient-balance/")
    page_b = bob.get("/articles/insufficient-balance/")  # from the cache
    secret_a = alice.cookies["csrftoken"].value
    secret_b = bob.cookies["csrftoken"].value
    assert secret_a != secret_b
    assert _unmask_cipher_token(token_in(page_a)) == secret_a
    assert _unmask_cipher_token(token_in(page_b)) == secret_b
    # Bob's form, from the cached page, is accepted (a vote), and only with his own token.
    vote = {"helpful": "yes", "csrfmiddlewaretoken": token_in(page_b)}
    assert alice.post("/articles/insufficient-balance/vote/", vote).status_code == 403
    assert bob.post("/articles/insufficient-balance/vote/", vote).status_code == 302


def test_an_edit_shows_on_the_next_visit(client, content):
    assert "余额不足" in client.get("/codes/51/").content.decode()
    code = ResponseCode.objects.get(code="51")
    code.meaning_zh = "卡里的钱不够了"
    code.save()
    assert "卡里的钱不够了" in client.get("/codes/51/").content.decode()
    article = Article.objects.get(slug="insufficient-balance")
    client.get(article.get_absolute_url())
    article.title_zh = "顾客卡里余额不够时怎么办"
    article.save()
    assert "顾客卡里余额不够时怎么办" in client.get(article.get_absolute_url()).content.decode()


def test_announcements_show_and_go_with_their_schedule(client, content):
    assert "银联系统今晚维护" not in client.get("/").content.decode()
    soon = Announcement.objects.create(
        title_zh="银联系统今晚维护",
        title_en="Card network maintenance tonight",
        starts_at=timezone.now() + dt.timedelta(minutes=5),
    )
    assert "银联系统今晚维护" not in client.get("/").content.decode()  # not started yet
    # It starts (no save signal: only the clock moved, as far as the page cache knows).
    Announcement.objects.filter(pk=soon.pk).update(
        starts_at=timezone.now() - dt.timedelta(minutes=1)
    )
    from django.core.cache import cache

    cache.delete(ANNOUNCEMENTS_KEY)  # the announcement pool refreshes every minute on its own
    assert "银联系统今晚维护" in client.get("/").content.decode()


def test_languages_and_fragments_are_kept_apart(client, tmp_path):
    seed_small(tmp_path)
    url = tokens_url(["no-code"])
    chinese = client.get(url).content.decode()
    english = client.get("/en" + url).content.decode()
    fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "别的卡能用吗？" in chinese and "Do other cards work?" in english
    assert "<html" in chinese and "<html" not in fragment and "别的卡能用吗？" in fragment
    assert "<html" in client.get(url).content.decode()  # the full page again, from the cache


def test_wizard_outcomes_are_never_cached(client, tmp_path):
    seed_small(tmp_path)
    url = tokens_url(["no-code", "many", "dead"])
    for _ in range(2):
        response = client.get(url, HTTP_HX_REQUEST="true")
        assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert WizardRun.objects.count() == 2  # one run per outcome shown


def test_signed_in_users_and_voters_get_the_live_page(client, content, merchant_user):
    client.get("/codes/51/")
    factories.sign_in(client, merchant_user)
    page = client.get("/codes/51/")
    assert page.context is not None  # rendered, not from the cache
    assert merchant_user.username in page.content.decode()
    voter = Client()
    voter.cookies["dd_voter"] = "v" * 20
    voter.get("/articles/insufficient-balance/")
    assert voter.get("/articles/insufficient-balance/").context is not None


def test_conditional_get_answers_304_until_the_page_changes(client, content):
    first = client.get("/codes/05/")
    etag = first["ETag"]
    assert etag.startswith('W/"')
    again = client.get("/codes/05/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    code = ResponseCode.objects.get(code="05")
    code.meaning_en = "Do not honour (changed)"
    code.save()
    # The Chinese page did not change: same ETag, still 304.
    assert client.get("/codes/05/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    code.meaning_zh = "不予承兑（已修改）"
    code.save()
    changed = client.get("/codes/05/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    # Another visitor (another CSRF cookie) cannot reuse this visitor's copy.
    assert Client().get("/codes/05/", HTTP_IF_NONE_MATCH=changed["ETag"]).status_code == 200


def test_a_page_with_a_flash_message_is_not_stored(client, content):
    vote = client.post("/articles/insufficient-balance/vote/", {"helpful": "yes"})
    assert vote.status_code == 302
    shown = client.get("/articles/insufficient-balance/")
    assert "谢谢你的反馈" in shown.content.decode()
    assert "谢谢你的反馈" not in Client().get("/articles/insufficient-balance/").content.decode()


def test_look_ups_are_written_in_batches(client, content, settings):
    from knowledge import services

    settings.KNOWLEDGE_LOOKUP_BATCH = 3
    services.lookups_flush()
    client.get("/codes/14/")
    client.get("/codes/14/")
    assert ResponseCode.objects.get(code="14").lookups == 0  # counted, not written yet
    client.get("/codes/14/")
    assert ResponseCode.objects.get(code="14").lookups == 3

"""Bank announcements: banner windows, archive, detail, selector for the wizard."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from knowledge.models import Announcement
from knowledge.selectors import announcement_active
from tests import factories

pytestmark = pytest.mark.django_db


def make(title, *, starts, ends=None, bank=None, severity="warning"):
    now = timezone.now()
    return Announcement.objects.create(
        title_zh=title,
        title_en=f"EN {title}",
        body_zh="**维护期间**请用扫码收款。<script>alert(1)</script>",
        body_en="Use QR payments during the **maintenance**.",
        starts_at=now + starts,
        ends_at=None if ends is None else now + ends,
        bank=bank,
        severity=severity,
    )


@pytest.fixture
def windows(db):
    return {
        "active": make("正在维护", starts=timedelta(hours=-1), ends=timedelta(hours=2)),
        "open_ended": make("长期提示", starts=timedelta(days=-1), severity="info"),
        "future": make("明天维护", starts=timedelta(days=1), ends=timedelta(days=1, hours=3)),
        "past": make("上周维护", starts=timedelta(days=-8), ends=timedelta(days=-7)),
    }


def test_banner_shows_only_active_announcements_on_public_pages(client, windows):
    for url in ("/", "/codes/", "/en/", "/search/?q=x"):
        body = client.get(url).content.decode()
        marker = "EN 正在维护" if url.startswith("/en/") else "正在维护"
        assert marker in body, url
        assert "明天维护" not in body and "上周维护" not in body
    assert f'href="/announcements/{windows["active"].pk}/"' in client.get("/").content.decode()


def test_banner_shows_the_three_most_severe(client, windows):
    for n in range(4):
        make(f"紧急{n}", starts=timedelta(hours=-1), severity="critical")
    body = client.get("/").content.decode()
    assert body.count('class="announcement announcement-') == 3
    assert body.count("announcement-critical") == 3
    assert "正在维护" not in body.split("<main")[0]  # a warning: shown in the archive instead
    assert "正在维护" in client.get("/announcements/").content.decode()


def test_banner_appears_when_the_window_opens(client, windows, monkeypatch):
    soon = make("五分钟后维护", starts=timedelta(minutes=5), ends=timedelta(hours=1))
    assert "五分钟后维护" not in client.get("/").content.decode()
    later = timezone.now() + timedelta(minutes=6)
    monkeypatch.setattr("knowledge.selectors.timezone.now", lambda: later)
    assert [a.pk for a in announcement_active()].count(soon.pk) == 1


def test_banner_costs_at_most_one_query_and_is_cached(client, windows, django_assert_num_queries):
    client.get("/")  # warm the page's other caches
    from django.core.cache import cache

    from knowledge.signals import ANNOUNCEMENTS_KEY

    cache.delete(ANNOUNCEMENTS_KEY)
    with django_assert_num_queries(1):
        assert len(announcement_active()) == 2
    with django_assert_num_queries(0):
        assert len(announcement_active()) == 2


def test_saving_an_announcement_refreshes_the_banner(client, windows):
    client.get("/")
    windows["active"].title_zh = "维护提前结束"
    windows["active"].save()
    assert "维护提前结束" in client.get("/").content.decode()
    windows["active"].delete()
    assert "维护提前结束" not in client.get("/").content.decode()


def test_most_severe_first_and_bank_filter(windows):
    icbc, abc = factories.bank(), factories.bank()
    for_icbc = make("工行维护", starts=timedelta(hours=-1), bank=icbc, severity="critical")
    make("农行维护", starts=timedelta(hours=-1), bank=abc)
    everything = announcement_active()
    assert everything[0] == for_icbc
    assert len(everything) == 4
    mine = announcement_active(bank=icbc)
    assert {a.title_zh for a in mine} == {"工行维护", "正在维护", "长期提示"}


def test_window_text_in_both_languages(windows):
    from django.utils import translation

    with translation.override("zh-hans"):
        assert "至" in windows["active"].window_text
        assert "结束时间待定" in windows["open_ended"].window_text
    with translation.override("en"):
        assert " to " in windows["active"].window_text
        assert "end not yet known" in windows["open_ended"].window_text


def test_end_must_be_after_start(db):
    now = timezone.now()
    item = Announcement(title_zh="x", title_en="x", starts_at=now, ends_at=now - timedelta(hours=1))
    with pytest.raises(ValidationError):
        item.full_clean()


def test_archive_lists_active_upcoming_and_past(client, windows, django_assert_max_num_queries):
    client.get("/")
    with django_assert_max_num_queries(4):
        response = client.get("/announcements/")
    body = response.content.decode()
    for title in ("正在维护", "长期提示", "明天维护", "上周维护"):
        assert title in body
    assert body.index("正在维护") < body.index("明天维护") < body.index("上周维护")
    english = client.get("/en/announcements/").content.decode()
    assert "EN 上周维护" in english and "Ended" in english


def test_archive_query_count_does_not_grow(client, windows, django_assert_max_num_queries):
    client.get("/")
    with django_assert_max_num_queries(4) as before:
        client.get("/announcements/")
    for day in range(30):
        make(f"更多{day}", starts=timedelta(days=-60 + day), ends=timedelta(days=-59 + day))
        make(f"生效{day}", starts=timedelta(hours=-1), ends=timedelta(hours=5))
    client.get("/")
    with django_assert_max_num_queries(4) as after:
        client.get("/announcements/")
    assert len(after.captured_queries) == len(before.captured_queries)


def test_archive_paginates_past_announcements(client, db):
    for day in range(25):
        make(f"旧公告{day}", starts=timedelta(days=-30 + day), ends=timedelta(days=-29 + day))
    first = client.get("/announcements/")
    assert first.context["page"].paginator.num_pages == 2
    assert client.get("/announcements/?page=2").status_code == 200


def test_detail_renders_sanitised_markdown(client, windows, django_assert_max_num_queries):
    url = f"/announcements/{windows['past'].pk}/"
    with django_assert_max_num_queries(3):
        body = client.get(url).content.decode()
    assert "<strong>维护期间</strong>" in body
    assert "<script>alert(1)</script>" not in body
    assert "已结束" in body
    assert client.get("/announcements/999999/").status_code == 404

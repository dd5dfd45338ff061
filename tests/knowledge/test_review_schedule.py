"""Review on a schedule: owners, "review by" dates per category, the queue, "verified" on the
public page, and overdue content mailed to its owner once a week (knowledge/review.py)."""

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from config import scheduler
from diagnosis.models import AuditEvent, OutgoingMail
from knowledge import review
from knowledge.models import Article, Category, ResponseCode
from tests import factories

pytestmark = pytest.mark.django_db

QUEUE = "/admin/knowledge/article/review-queue/"


@pytest.fixture
def editor(db):
    return factories.editor(email="editor@example.com")


@pytest.fixture
def editor_client(client, editor):
    factories.sign_in(client, editor)
    return client


def test_loaded_content_gets_review_dates_by_category(content):
    today = timezone.localdate()
    article = Article.objects.published().exclude(category__key="risk_compliance").first()
    assert article.review_by == today + dt.timedelta(days=180)
    risky = Article.objects.published().filter(category__key="risk_compliance").first()
    assert risky.review_by == today + dt.timedelta(days=60)
    assert not ResponseCode.objects.filter(review_by__isnull=True).exists()
    assert not Article.objects.published().filter(review_by__isnull=True).exists()


def test_a_draft_gets_its_date_when_published_by_save(content):
    category = Category.objects.get(key="pin")
    draft = Article.objects.create(
        slug="new-draft", category=category, title_zh="草稿", title_en="Draft",
        summary_zh="s", summary_en="s",
    )  # fmt: skip
    assert draft.review_by is None
    draft.status = Article.Status.PUBLISHED
    draft.save()
    assert draft.review_by == timezone.localdate() + dt.timedelta(days=180)


def test_verifying_records_who_and_when_and_the_public_page_shows_it(
    content, editor, editor_client, client
):
    from django.test import Client

    article = Article.objects.published().get(slug="insufficient-balance")
    anonymous = Client()
    assert "最近核实" not in anonymous.get(article.get_absolute_url()).content.decode()
    response = editor_client.post(QUEUE, {"kind": "article", "pk": article.pk})
    assert response.status_code == 302
    article.refresh_from_db()
    today = timezone.localdate()
    assert article.verified_by == editor and article.verified_at.date() == today
    assert article.review_by == today + dt.timedelta(days=180)
    assert AuditEvent.objects.filter(action="knowledge.verify").count() == 1
    assert (
        f"最近核实：{today:%Y-%m-%d}" in anonymous.get(article.get_absolute_url()).content.decode()
    )
    english = anonymous.get("/en" + article.get_absolute_url()).content.decode()
    assert f"Last checked {today:%Y-%m-%d}" in english
    code = ResponseCode.objects.get(code="51")
    editor_client.post(QUEUE, {"kind": "code", "pk": code.pk})
    assert f"Last checked {today:%Y-%m-%d}" in anonymous.get("/en/codes/51/").content.decode()


def test_the_queue_is_sorted_by_due_date_with_overdue_flagged(
    content, editor, editor_client, django_assert_max_num_queries
):
    today = timezone.localdate()
    late = Article.objects.published().get(slug="insufficient-balance")
    soon = ResponseCode.objects.get(code="05")
    Article.objects.filter(pk=late.pk).update(review_by=today - dt.timedelta(days=3), owner=editor)
    ResponseCode.objects.filter(pk=soon.pk).update(review_by=today + dt.timedelta(days=5))
    with django_assert_max_num_queries(15):
        body = editor_client.get(QUEUE).content.decode()
    assert body.index(late.title_zh) < body.index(soon.meaning_zh)
    assert "已过期" in body
    not_due = ResponseCode.objects.get(code="51")
    assert not_due.meaning_zh not in body  # 180 days away
    mine = editor_client.get(QUEUE, {"mine": "1"}).content.decode()
    assert late.title_zh in mine and soon.meaning_zh not in mine
    # More due content: still the same number of queries.
    Article.objects.published().update(review_by=today)
    with django_assert_max_num_queries(15):
        editor_client.get(QUEUE)


def test_verify_refuses_unknown_rows_and_non_editors(content, editor_client, client, agent):
    assert editor_client.post(QUEUE, {"kind": "ticket", "pk": "1"}).status_code == 404
    assert editor_client.post(QUEUE, {"kind": "code", "pk": "x"}).status_code == 404
    factories.sign_in(client, agent)
    assert client.post(QUEUE, {"kind": "code", "pk": "1"}).status_code in (302, 403)


def test_overdue_content_is_mailed_to_its_owner_once_a_week(content, editor, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    today = timezone.localdate()
    article = Article.objects.published().get(slug="insufficient-balance")
    Article.objects.filter(pk=article.pk).update(
        review_by=today - dt.timedelta(days=1), owner=editor
    )
    call_command("notify_overdue_reviews")
    call_command("notify_overdue_reviews")  # the same week: no second mail
    assert OutgoingMail.objects.filter(kind="review_overdue").count() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["editor@example.com"]
    assert (
        article.title_zh in message.body
        and f"/admin/knowledge/article/{article.pk}/change/" in message.body
    )


def test_the_review_job_is_scheduled():
    assert "knowledge.tasks.notify_overdue_reviews" in {job.task_path for job in scheduler.JOBS}


def test_review_days_follow_the_setting(settings):
    settings.KNOWLEDGE_REVIEW_DAYS = {"default": 10, "pin": 3}
    assert review.review_days("pin") == 3 and review.review_days("network") == 10

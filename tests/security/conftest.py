"""A small world for the security tests: merchant A with a ticket, an attachment, an API token
and an escalation batch; merchant B; an agent, a knowledge editor and a superuser; reference
knowledge (categories, codes, articles, one announcement) and a published wizard."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from tests import factories
from tests.diagnosis.wizard_support import seed_small

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@dataclass
class World:
    merchant_a: object
    merchant_b: object
    agent: object
    editor: object
    superuser: object
    ticket: object
    attachment: object
    token: object
    raw_token: str
    batch: object
    item: object
    article: object
    category: object
    announcement: object
    incident: object


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def world(db, tmp_path, media):
    from diagnosis.escalations.services import escalation_create
    from diagnosis.models import Attachment
    from diagnosis.tickets.api_tokens import api_token_create
    from knowledge.models import Announcement, Article

    seed_small(tmp_path)
    merchant_a = factories.merchant_user()
    merchant_b = factories.merchant_user()
    agent = factories.agent()
    editor = factories.editor()
    superuser = factories.user(is_staff=True, is_superuser=True)
    ticket = factories.ticket(merchant=merchant_a.merchant, user=merchant_a)
    attachment = Attachment(
        ticket=ticket,
        event=ticket.events.first(),
        original_name="slip.jpg",
        content_type="image/jpeg",
        size=len(JPEG),
        uploaded_by=merchant_a,
    )
    attachment.file.save("slip", ContentFile(JPEG), save=False)
    attachment.save()
    token, raw = api_token_create(user=merchant_a, name="till")
    batch = escalation_create(actor=agent, tickets=[ticket])
    batch = batch[0] if isinstance(batch, list | tuple) else batch
    article = Article.objects.published().first()
    announcement = Announcement.objects.create(
        title_zh="维护通知",
        title_en="Maintenance",
        body_zh="今晚维护",
        body_en="Maintenance tonight",
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=timezone.now() + timedelta(hours=1),
    )
    from diagnosis.models import Incident

    incident = Incident.objects.create(
        acquirer=ticket.acquirer,
        started_at=timezone.now() - timedelta(minutes=20),
        last_ticket_at=timezone.now() - timedelta(minutes=5),
        merchant_count=3,
    )
    incident.tickets.add(ticket)
    return World(
        merchant_a=merchant_a,
        merchant_b=merchant_b,
        agent=agent,
        editor=editor,
        superuser=superuser,
        ticket=ticket,
        attachment=attachment,
        token=token,
        raw_token=raw,
        batch=batch,
        item=batch.items.first(),
        article=article,
        category=article.category,
        announcement=announcement,
        incident=incident,
    )

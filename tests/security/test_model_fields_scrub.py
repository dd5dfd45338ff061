"""Every text column of every model either masks card numbers at the storage boundary or is on
this short allow-list, with the reason it cannot hold what someone typed as free text.

Our models use the Scrubbed* field types (diagnosis/core/scrubbed_fields.py); other apps'
models get the same rule from one pre_save receiver (THIRD_PARTY_SCRUBBED). A new CharField,
TextField or JSONField anywhere fails here until it is one of those or listed below.
"""

import pytest
from django.apps import apps
from django.db import models

from diagnosis.core.scrubbed_fields import THIRD_PARTY_SCRUBBED

CARD = "4111 1111 1111 1111"
MASKED = "411111******1111"

# label.field: why it may hold any text without scrubbing.
ALLOWED = {
    # identifiers in their own fields: validated shapes, never masked there (issue 14)
    "diagnosis.merchant.mid": "MID: 15 digits, validated (mid_validator)",
    "diagnosis.terminal.tid": "TID: 8 letters/digits, validated",
    "diagnosis.ticket.tid": "TID: 8 letters/digits, validated",
    "diagnosis.ticket.rrn": "RRN: 12 letters/digits, validated",
    "diagnosis.ticket.number": "ticket number DD-<year>-<6 digits>, generated",
    "diagnosis.escalationbatch.number": "batch number, generated",
    "diagnosis.bank.code": "slug, validated",
    "knowledge.category.key": "slug, validated",
    "knowledge.article.slug": "slug, validated",
    "diagnosis.wizardquestion.key": "slug, validated (wizard_id_validator)",
    "diagnosis.wizardoutcome.key": "slug, validated (wizard_id_validator)",
    "diagnosis.wizardoption.key": "slug, validated (wizard_id_validator)",
    "diagnosis.wizardrun.path": "option slugs joined by dots, checked against the tree",
    "diagnosis.wizardrun.outcome": "outcome slug of the published tree",
    "diagnosis.insightwizardday.outcome": "outcome slug of the published tree",
    "diagnosis.insightrollupstate.time_zone": "time zone name from settings",
    # secrets, hashes and generated values
    "diagnosis.user.password": "password hash",
    "diagnosis.apitoken.token_hash": "SHA-256 hex digest",
    "diagnosis.apitoken.prefix": "'dd_' + 8 random characters, generated",
    "knowledge.articlevote.voter_key": "SHA-256 hex digest",
    "diagnosis.ratecounter.key": "cache key: a hash, generated",
    "diagnosis.wizardimport.file_hash": "SHA-256 hex digest",
    "diagnosis.wizardquestion.source_hash": "SHA-256 hex digest",
    "diagnosis.wizardoutcome.source_hash": "SHA-256 hex digest",
    "diagnosis.wizardcoderoute.source_hash": "SHA-256 hex digest",
    "knowledge.category.source_hash": "SHA-256 hex digest",
    "knowledge.responsecode.source_hash": "SHA-256 hex digest",
    "knowledge.article.source_hash": "SHA-256 hex digest",
    "sessions.session.session_key": "random key, generated",
    "sessions.session.session_data": "signed server-side data: ids, flags, masked form values",
    "otp_totp.totpdevice.key": "authenticator secret (hex), generated",
    "otp_static.statictoken.token": "recovery code, generated (8 base32 characters)",
    # set by code from fixed vocabularies
    "diagnosis.auditevent.action": "action name set by code",
    "diagnosis.auditevent.object_type": "model label set by code",
    "diagnosis.auditevent.object_id": "primary key or ticket number set by code",
    "diagnosis.attachment.content_type": "MIME type sniffed from the file's content",
    "admin.logentry.object_id": "primary key of the changed row",
    "auth.permission.name": "defined in code (model Meta)",
    "auth.permission.codename": "defined in code (model Meta)",
    "contenttypes.contenttype.app_label": "defined in code",
    "contenttypes.contenttype.model": "defined in code",
    "axes.accesslog.session_hash": "hash of the session key",
    "diagnosis.auditevent.role": "role name set by code",
    "diagnosis.insightdurationrollup.kind": "duration kind set by code",
    "diagnosis.insightdurationvalue.kind": "duration kind set by code",
    "diagnosis.ticket.status": "status choice, validated by the workflow",
    "diagnosis.apitoken.revoked_reason": "reason choice set by code",
    "diagnosis.outgoingmail.key": "de-duplication key built by code (kind, ticket, user ids)",
    "diagnosis.outgoingmail.kind": "notification kind, a code constant",
    "knowledge.searchindexartefact.token": "version token (hex) of the search index",
}


def text_fields():
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField | models.JSONField):
                yield model, field


def is_short(field) -> bool:
    """A column that cannot hold 13 characters cannot hold a card number (PostgreSQL enforces
    max_length; choices are validated)."""
    return isinstance(field, models.CharField) and (field.max_length or 999) < 13


def covered(model, field) -> str | None:
    label = f"{model._meta.label_lower}.{field.name}"
    if getattr(field, "scrubs_card_numbers", False):
        return "scrubbed field"
    if field.name in THIRD_PARTY_SCRUBBED.get(model._meta.label_lower, ()):
        return "pre_save rule"
    if label in ALLOWED:
        return ALLOWED[label]
    if is_short(field):
        return "shorter than 13 characters"
    return None


def test_every_text_column_scrubs_or_is_allowed_with_a_reason():
    missing = [
        f"{model._meta.label_lower}.{field.name}"
        for model, field in text_fields()
        if covered(model, field) is None
    ]
    assert missing == [], f"scrub these columns or allow them with a reason: {missing}"
    stale = sorted(
        label
        for label in ALLOWED
        if label not in {f"{m._meta.label_lower}.{f.name}" for m, f in text_fields()}
    )
    assert stale == [], f"allow-list entries without a column: {stale}"


def test_the_allow_list_stays_short():
    assert len(ALLOWED) <= 50
    scrubbed = sum(
        1 for _model, field in text_fields() if getattr(field, "scrubs_card_numbers", False)
    )
    assert scrubbed > 80  # both apps' free text, knowledge included


@pytest.mark.django_db
def test_storage_boundary_masks_whatever_the_path():
    """save(), create(), QuerySet.update() and bulk_update() all store the masked form; so do
    the knowledge models (the admin's path) and third-party rows (the pre_save rule)."""
    from django.contrib.auth.models import Group

    from knowledge.models import Announcement, Article, SearchTerm
    from tests import factories

    ticket = factories.ticket(description="ok")
    from diagnosis.models import Ticket

    Ticket.objects.filter(pk=ticket.pk).update(description=f"卡号 {CARD}")
    assert Ticket.objects.get(pk=ticket.pk).description == f"卡号 {MASKED}"
    ticket.wizard_summary = f"card {CARD} 100"
    Ticket.objects.bulk_update([ticket], ["wizard_summary"])
    assert CARD.replace(" ", "") not in Ticket.objects.get(pk=ticket.pk).wizard_summary
    ticket.description = f"again {CARD}"
    ticket.save()
    assert ticket.description == f"again {MASKED}"  # the object in hand tells the truth too

    announcement = Announcement.objects.create(title_zh=f"公告 {CARD}", title_en="x")
    assert Announcement.objects.get(pk=announcement.pk).title_zh == f"公告 {MASKED}"
    term = SearchTerm.objects.create(text="６２２２０２１２３４５６７８９０１２３")
    assert SearchTerm.objects.get(pk=term.pk).text == "622202*********0123"
    group = Group.objects.create(name=f"组 {CARD}")
    assert Group.objects.get(pk=group.pk).name == f"组 {MASKED}"
    category = factories_category()
    article = Article.objects.create(
        slug="leak-check",
        category=category,
        title_zh=f"标题 {CARD}",
        title_en="t",
        summary_zh="s",
        summary_en="s",
        cause_zh="原因 4111.1111.1111.1111",
    )
    stored = Article.objects.get(pk=article.pk)
    assert stored.title_zh == f"标题 {MASKED}" and stored.cause_zh == f"原因 {MASKED}"
    # The search vocabulary was built from the masked text.
    assert not SearchTerm.objects.filter(text__contains="4111111111111111").exists()


def factories_category():
    from knowledge.models import Category

    return Category.objects.create(key="leak-check", name_zh="分类", name_en="Category")

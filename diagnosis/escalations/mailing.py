"""Sending a batch to its bank by e-mail (issue 17 B), run by the task `send_batch_to_bank`.

The batch file is built in the bank's template (diagnosis.models.EscalationTemplate) and sent
to the bank's contacts (To: escalation_email, Cc: escalation_cc) with the batch number in the
subject. A first send moves the batch to "sent" (and its tickets to "escalated to bank",
through `escalation_mark_sent`) in the same transaction as the SMTP conversation: when the mail
server refuses, everything is rolled back and the batch stays a draft with the reason. The
Message-ID of the mail that went out is kept on the batch. Resending (explicit, audited) mails
the file again and records the new Message-ID; the batch status does not change.

Card data: the attachment holds masked cards only (diagnosis.escalations.exports); subject and
body hold batch and ticket numbers, the bank's name and the agent's note (scrubbed when saved).
"""

import logging
import string

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import translation
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from diagnosis.core import audit
from diagnosis.core.cards import scrub_text
from diagnosis.escalations.exports import escalation_file
from diagnosis.models import BankOutcome, EscalationBatch, EscalationTemplate, User
from diagnosis.models.tickets import SendState

logger = logging.getLogger(__name__)


def random_part() -> str:
    return get_random_string(24, allowed_chars=string.ascii_lowercase)


def mail_language(template) -> str:
    return template.header_language or settings.LANGUAGE_CODE


def batch_message(batch, template) -> EmailMessage:
    """The mail to the bank with the batch file attached (not sent)."""
    bank = batch.acquirer
    numbers = [item.ticket.number for item in batch.items.all()]
    with translation.override(mail_language(template)):
        subject = _("[DeclineDesk] 调单申请 %(batch)s：%(count)d 笔交易（%(bank)s）") % {
            "batch": batch.number,
            "count": len(numbers),
            "bank": bank.name,
        }
        outcomes = "\n".join(f"  - {label}" for _value, label in BankOutcome.choices)
        lines = [
            _("您好，"),
            "",
            _("附件是批次 %(batch)s 的 %(count)d 笔被拒交易，请协助核查。")
            % {"batch": batch.number, "count": len(numbers)},
            "",
            _("请在原文件中每行填写贵行的受理号和处理结果后回复本邮件，并保留工单号一列。"),
            _("处理结果请使用以下之一："),
            outcomes,
            "",
            _("工单号：%(numbers)s") % {"numbers": ", ".join(numbers)},
        ]
        if batch.note:
            lines += ["", _("说明："), batch.note]
        lines += ["", _("卡号均已遮蔽。"), "", "DeclineDesk"]
    content, mime, filename = escalation_file(batch, template)
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "localhost"
    message = EmailMessage(
        subject=scrub_text(subject),
        body=scrub_text("\n".join(lines)),
        to=[bank.escalation_email],
        cc=bank.escalation_cc_list,
        # Letters only after the batch number: a long digit run would look like a card number
        # to the scrubbed field that keeps the id.
        headers={"Message-ID": f"<{batch.number.lower()}.{random_part()}@{domain}>"},
    )
    message.attach(filename, content, mime)
    return message


def send_batch(batch_id: int, actor_id: int | None, resend: bool = False) -> str:
    """Mail the batch; returns "sent", "failed" or "skipped" (nothing queued: a repeat)."""
    from diagnosis.escalations.services import escalation_mark_sent

    batch = (
        EscalationBatch.objects.select_related("acquirer", "acquirer__escalation_template")
        .filter(pk=batch_id)
        .first()
    )
    if batch is None or batch.send_state != SendState.QUEUED:
        return "skipped"
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    template = EscalationTemplate.for_bank(batch.acquirer)
    try:
        with transaction.atomic():
            if not resend:
                escalation_mark_sent(batch=batch, actor=actor)
            message = batch_message(batch, template)
            message.send()
            EscalationBatch.objects.filter(pk=batch.pk).update(
                send_state=SendState.NONE,
                send_error="",
                message_id=message.extra_headers["Message-ID"],
                mail_count=batch.mail_count + 1,
            )
            audit.record(
                actor=actor,
                action="escalation.resent" if resend else "escalation.mailed",
                obj=batch,
                message_id=message.extra_headers["Message-ID"],
                to=", ".join(message.to + message.cc),
            )
    except (ValidationError, PermissionDenied) as error:
        reason = "; ".join(getattr(error, "messages", [])) or _("没有发送批次的权限。")
        _failed(batch, actor, reason, resend)
        return "failed"
    except Exception as error:  # noqa: BLE001 - any mail trouble: the agent sees why
        logger.warning("Batch %s could not be mailed: %s", batch.number, error)
        _failed(batch, actor, _("邮件服务器拒绝了这封邮件：%(error)s") % {"error": error}, resend)
        return "failed"
    return "sent"


def _failed(batch, actor, reason, resend):
    EscalationBatch.objects.filter(pk=batch.pk).update(
        send_state=SendState.FAILED, send_error=scrub_text(str(reason))[:2000]
    )
    audit.record(
        actor=actor,
        action="escalation.resend_failed" if resend else "escalation.send_failed",
        obj=batch,
    )

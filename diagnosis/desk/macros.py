"""Reply drafts for the agent's ticket page: knowledge-base answers and macros.

Both are written in the MERCHANT's language (the language of the ticket's submitter, else of the
merchant's first user), whatever language the agent reads the desk in. Texts are scrubbed like
any reply (the reply service scrubs again before storing).
"""

import re

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from diagnosis.core import audit, permissions
from diagnosis.core.cards import scrub_text
from diagnosis.models import EscalationItem, Macro, User
from diagnosis.tickets import services as ticket_services
from knowledge.bilingual import lines, localized

PLACEHOLDERS = {
    "merchant": gettext_lazy("商户名称"),
    "ticket": gettext_lazy("工单号"),
    "code": gettext_lazy("应答码"),
    "amount": gettext_lazy("金额"),
    "card": gettext_lazy("卡号（已遮蔽）"),
    "bank_reference": gettext_lazy("银行受理号"),
}
PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")
MACRO_LIST_LIMIT = 30


def check_placeholders(macro) -> None:
    """Model validation: only the known placeholders may be used."""
    unknown = {
        name
        for body in (macro.body_zh, macro.body_en)
        for name in PLACEHOLDER_RE.findall(body or "")
        if name not in PLACEHOLDERS
    }
    if unknown:
        raise ValidationError(
            _("未知的占位符：%(names)s。可用：%(known)s")
            % {
                "names": "、".join(sorted(f"{{{n}}}" for n in unknown)),
                "known": "、".join(f"{{{n}}}" for n in PLACEHOLDERS),
            }
        )


def merchant_language(ticket) -> str:
    """The language the merchant reads: the submitter's, else the merchant's first user's."""
    known = dict(settings.LANGUAGES)
    creator = ticket.created_by
    if creator is not None and creator.merchant_id == ticket.merchant_id:
        language = creator.language
    else:
        language = (
            User.objects.filter(merchant_id=ticket.merchant_id, is_active=True)
            .order_by("pk")
            .values_list("language", flat=True)
            .first()
        )
    return language if language in known else settings.LANGUAGE_CODE


def _lang_key(language: str) -> str:
    return "en" if language.startswith("en") else "zh"


def bank_reference(ticket) -> str:
    return (
        EscalationItem.objects.filter(ticket=ticket)
        .exclude(bank_reference="")
        .order_by("-batch__created_at", "-pk")
        .values_list("bank_reference", flat=True)
        .first()
        or ""
    )


def placeholder_values(ticket) -> dict:
    return {
        "merchant": ticket.merchant.name,
        "ticket": ticket.number,
        "code": ticket.response_code or "—",
        "amount": f"{ticket.amount} {ticket.currency}",
        "card": ticket.card_masked or "—",
        "bank_reference": bank_reference(ticket) or "—",
    }


def render_macro(macro, ticket, *, language=None) -> str:
    """The macro's body for `ticket` in the merchant's language, placeholders filled, scrubbed."""
    language = language or merchant_language(ticket)
    body = localized(macro, "body", _lang_key(language))
    if not body:
        return ""
    values = placeholder_values(ticket)
    text = PLACEHOLDER_RE.sub(lambda m: str(values.get(m.group(1), m.group(0))), body)
    return scrub_text(text).strip()


MARKDOWN_LINK_RE = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def plain_text(markdown: str, absolute=str) -> str:
    """The article's light Markdown as plain reply text: bold marks dropped, links written as
    "text (address)" with site paths made absolute."""
    text = MARKDOWN_LINK_RE.sub(lambda m: f"{m.group(1)} ({absolute(m.group(2))})", markdown)
    return text.replace("**", "").replace("__", "")


def knowledge_draft(ticket, article, *, public_url: str, code=None, absolute=str) -> str:
    """A reply built from the code's meaning, the article's merchant steps and customer script,
    with a link to the public article, in the merchant's language. `absolute(path)` makes the
    article's own links absolute."""
    language = merchant_language(ticket)
    lang = _lang_key(language)
    with translation.override(language):
        parts = [
            _("您好，关于工单 %(number)s：") % {"number": ticket.number},
        ]
        if code is not None:
            parts.append(
                _("应答码 %(code)s 的意思是：%(meaning)s")
                % {"code": code.code, "meaning": localized(code, "meaning", lang)}
            )
        steps = [plain_text(s, absolute) for s in lines(localized(article, "merchant_steps", lang))]
        if steps:
            parts.append(
                _("请您这样处理：")
                + "\n"
                + "\n".join(f"{i}. {step}" for i, step in enumerate(steps, 1))
            )
        script = plain_text(localized(article, "customer_script", lang).strip(), absolute)
        if script:
            parts.append(_("可以这样对顾客说：") + "\n" + script)
        parts.append(
            _("详细说明：%(title)s %(url)s")
            % {"title": localized(article, "title", lang), "url": public_url}
        )
    return scrub_text("\n\n".join(parts))


# --- selectors -----------------------------------------------------------------------------------


def macros_for_reply_form(*, query: str = "") -> list:
    """Active macros (filtered by name in either language), at most MACRO_LIST_LIMIT + 1."""
    macros = Macro.objects.filter(is_active=True)
    query = scrub_text(query or "").strip()[:80]
    if query:
        macros = macros.filter(Q(name_zh__icontains=query) | Q(name_en__icontains=query))
    return list(macros.order_by("-usage_count", "name_zh", "pk")[: MACRO_LIST_LIMIT + 1])


# --- service -------------------------------------------------------------------------------------


@transaction.atomic
def macro_apply(*, macro, ticket, actor, body=None) -> list[str]:
    """Send the macro's reply (or `body`, the agent's edited text) and apply its actions in one
    transaction through the ticket services; counts the use. Returns what was done (labels)."""
    if not permissions.can_use_macros(actor) or not permissions.can_work_desk_ticket(actor, ticket):
        raise PermissionDenied
    if not macro.is_active:
        raise ValidationError(_("这个回复模板已停用。"))
    done = []
    text = render_macro(macro, ticket) if body is None else scrub_text(body).strip()
    if text:
        ticket_services.ticket_reply(ticket=ticket, author=actor, body=text)
        done.append(_("已发送回复"))
    if macro.set_priority and macro.set_priority != ticket.priority:
        ticket_services.ticket_set_priority(ticket=ticket, actor=actor, priority=macro.set_priority)
        done.append(_("优先级：%(value)s") % {"value": ticket.get_priority_display()})
    assignee = actor if macro.assign_to_actor else macro.set_assignee
    if assignee is not None and assignee.pk != ticket.assignee_id:
        ticket_services.ticket_assign(ticket=ticket, actor=actor, assignee=assignee)
        done.append(_("指派给 %(name)s") % {"name": assignee.get_username()})
    if macro.set_status and macro.set_status != ticket.status:
        ticket_services.ticket_change_status(ticket=ticket, actor=actor, status=macro.set_status)
        done.append(_("状态：%(value)s") % {"value": ticket.get_status_display()})
    Macro.objects.filter(pk=macro.pk).update(
        usage_count=F("usage_count") + 1, last_used_at=timezone.now()
    )
    audit.record(actor=actor, action="macro.apply", obj=ticket, macro=str(macro.pk))
    return done

"""The desk ticket page's tools: knowledge-base answers, macros, merge and link.

Hooked into the ticket page with `tools_context()` (context) and the partials
diagnosis/_desk_kb_insert.html, _desk_macros.html and _desk_links.html. Every view works without
JavaScript (a GET that pre-fills the reply form, POST + redirect); with htmx the draft replaces
the reply textarea only.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from diagnosis.core import permissions
from diagnosis.core.http import errors_text
from diagnosis.desk import macros as desk_macros
from diagnosis.desk import selectors
from diagnosis.desk.forms import AgentReplyForm
from diagnosis.models import Macro, SatisfactionRating, Ticket
from diagnosis.tickets import merge

desk_required = permissions.role_required(permissions.can_use_desk)


def tools_context(request, ticket) -> dict:
    """What the partials need on the agent's ticket page (three queries)."""
    query = request.GET.get("mq", "")
    found = desk_macros.macros_for_reply_form(query=query)
    return {
        "macros": found[: desk_macros.MACRO_LIST_LIMIT],
        "macros_more": len(found) > desk_macros.MACRO_LIST_LIMIT,
        "macro_query": query,
        "macro_placeholders": desk_macros.PLACEHOLDERS,
        "ticket_links": merge.ticket_links(ticket=ticket),
        "rating": SatisfactionRating.objects.filter(ticket=ticket).first(),
    }


def _ticket(request, number) -> Ticket:
    from diagnosis.desk.views import _ticket_or_404

    return _ticket_or_404(request, number)


def _back(ticket, anchor=""):
    return HttpResponseRedirect(reverse("diagnosis:desk_ticket", args=[ticket.number]) + anchor)


def _draft_response(request, ticket, text):
    """htmx: only the reply textarea, pre-filled; otherwise the whole page with it."""
    form = AgentReplyForm(initial={"body": text})
    if request.htmx:
        return render(request, "diagnosis/_desk_reply_body.html", {"field": form["body"]})
    from diagnosis.desk.views import _render_ticket

    return _render_ticket(request, ticket, forms={"reply": form})


@require_GET
@desk_required
def kb_draft(request, number, slug):
    """A reply draft from a related article, in the merchant's language."""
    from knowledge.models import Article, ResponseCode

    ticket = _ticket(request, number)
    article = Article.objects.published().filter(slug=slug).first()
    if article is None:
        raise Http404
    code = ResponseCode.objects.filter(code=ticket.response_code).first()
    text = desk_macros.knowledge_draft(
        ticket,
        article,
        code=code if ticket.response_code else None,
        public_url=request.build_absolute_uri(article.get_absolute_url()),
        absolute=lambda path: request.build_absolute_uri(path) if path.startswith("/") else path,
    )
    return _draft_response(request, ticket, text)


def _macro(pk) -> Macro:
    macro = Macro.objects.filter(pk=pk, is_active=True).select_related("set_assignee").first()
    if macro is None:
        raise Http404
    return macro


@require_GET
@desk_required
def macro_draft(request, number, pk):
    """The macro's text in the reply form, to edit before sending (no action is applied)."""
    if not permissions.can_use_macros(request.user):
        raise PermissionDenied
    ticket = _ticket(request, number)
    return _draft_response(request, ticket, desk_macros.render_macro(_macro(pk), ticket))


@require_POST
@desk_required
def macro_apply(request, number, pk):
    """Send the macro's reply and apply its status / priority / assignee in one go."""
    ticket = _ticket(request, number)
    macro = _macro(pk)
    try:
        done = desk_macros.macro_apply(macro=macro, ticket=ticket, actor=request.user)
    except ValidationError as error:
        messages.error(request, errors_text(error))
    else:
        messages.success(
            request,
            _("已使用回复模板“%(name)s”：%(done)s")
            % {"name": macro.name, "done": "，".join(done) or _("没有需要更改的")},
        )
    return _back(ticket)


def _other_ticket(request, ticket):
    number = str(request.POST.get("other", "")).strip().upper()[:20]
    other = selectors.desk_ticket_detail(number=number) if number else None
    if other is None or not permissions.can_work_desk_ticket(request.user, other):
        messages.error(request, _("找不到工单：%(numbers)s") % {"numbers": number or "—"})
        return None
    return other


@require_POST
@desk_required
def ticket_merge(request, number):
    """Merge the ticket named in `other` (the duplicate) into this one."""
    ticket = _ticket(request, number)
    duplicate = _other_ticket(request, ticket)
    if duplicate is not None:
        try:
            merge.ticket_merge(kept=ticket, duplicate=duplicate, actor=request.user)
        except ValidationError as error:
            messages.error(request, errors_text(error))
        else:
            messages.success(
                request,
                _("已把工单 %(dup)s 合并到本工单。") % {"dup": duplicate.number},
            )
    return _back(ticket, "#links")


@require_POST
@desk_required
def ticket_link(request, number):
    ticket = _ticket(request, number)
    other = _other_ticket(request, ticket)
    if other is not None:
        try:
            merge.ticket_link(ticket=ticket, other=other, actor=request.user)
        except ValidationError as error:
            messages.error(request, errors_text(error))
        else:
            messages.success(request, _("已关联工单 %(number)s。") % {"number": other.number})
    return _back(ticket, "#links")


@require_POST
@desk_required
def ticket_unlink(request, number, link_id):
    ticket = _ticket(request, number)
    try:
        merge.ticket_unlink(ticket=ticket, link_id=link_id, actor=request.user)
    except ValidationError as error:
        messages.error(request, errors_text(error))
    else:
        messages.success(request, _("已取消关联。"))
    return _back(ticket, "#links")

"""The agents' desk: the queue, bulk actions and the agent's ticket page.

Thin views: parse input with diagnosis.desk.forms, read with diagnosis.desk.selectors, write with
diagnosis.tickets.services; every access decision is in diagnosis.core.permissions.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import condition, require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from config import pagecache
from config.fragments import cached_rows
from diagnosis.core import permissions
from diagnosis.core.http import errors_text, safe_next
from diagnosis.desk import live, saved_views, selectors
from diagnosis.desk.forms import (
    AgentNoteForm,
    AgentReplyForm,
    AssignForm,
    BulkActionForm,
    PriorityForm,
    QueueFilterForm,
    StatusForm,
)
from diagnosis.desk.tools import tools_context
from diagnosis.insight import terminal_health
from diagnosis.models import Ticket, TicketEvent
from diagnosis.tickets import services as ticket_services
from diagnosis.tickets import sla, sla_clock, workflow

desk_required = permissions.role_required(permissions.can_use_desk)
escalations_required = permissions.role_required(permissions.can_manage_escalations)

QUEUE_PARAMS = set(QueueFilterForm.base_fields)


def _queue_query(data: QueryDict) -> str:
    """The filter part of a query string (no cursors), for links that keep the filters."""
    pairs = [(k, v) for k in data for v in data.getlist(k) if k in QUEUE_PARAMS and v != ""]
    return urlencode(pairs)


# --- queue ---------------------------------------------------------------------------------------


def _queue_etag(request):
    """Only the htmx requests (the 15-second poll, filter changes) are conditional."""
    if not request.htmx:
        return None
    return live.queue_etag(
        user_pk=request.user.pk, query=request.GET.urlencode(), language=get_language() or ""
    )


@require_GET
@desk_required
@vary_on_headers("HX-Request")
@condition(etag_func=_queue_etag)
def queue(request):
    scrubbed = QueueFilterForm.scrubbed_query(request.GET)
    if scrubbed is not None:
        # A card number typed into a filter must not stay in the URL (history, logs, links).
        return HttpResponseRedirect(f"{request.path}?{scrubbed.urlencode()}")
    agents = list(selectors.desk_agents())
    agents_signature = ",".join(f"{a.pk}:{a.get_username()}:{a.get_full_name()}" for a in agents)
    form = QueueFilterForm(request.GET or None, agents=agents)
    filters = form.filters()
    query = _queue_query(request.GET)
    results_key = live.results_key(
        request=request, language=get_language() or "", agents_signature=agents_signature
    )
    results_body = cache.get(results_key) if results_key else None
    if results_body is None:
        results_body = _queue_results(request, filters, query, agents)
        if results_key:
            live.results_store(results_key, results_body)
    else:
        results_body = live.results_fill(results_body, request)
    shortcuts = [
        ("me", _("分配给我"), urlencode({"assignee": "me"}), filters.get("assignee") == "me"),
        (
            "none",
            _("未分配"),
            urlencode({"assignee": "none"}),
            filters.get("assignee") == "none",
        ),
        ("overdue", _("已超时"), urlencode({"overdue": "on"}), bool(filters.get("overdue"))),
        (
            "sla",
            _("SLA 已违约"),
            urlencode({"sla": "breached", "sort": "sla"}),
            filters.get("sla") == "breached",
        ),
    ]
    context = {
        "form": form,
        "results_body": mark_safe(results_body),  # noqa: S308 - our own rendered template
        "query": query,
        "current_url": request.get_full_path(),
        "shortcuts": shortcuts,
        "has_filters": bool(query),
        "now": timezone.now(),
        "seen": int(timezone.now().timestamp()),
        "saved_views": saved_views.views_for_nav(user=request.user),
        # The filter form renders a dozen widgets with their choices (≈ a third of the page's
        # time): kept as a fragment, keyed by everything it shows (filters, agents, content
        # version for banks and categories) and the language.
        "filters_key": "|".join(
            (
                get_language() or "",
                query,
                pagecache.pages_version(),
                agents_signature,
            )
        ),
    }
    template = "diagnosis/desk_queue.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    response = render(request, template, context)
    if request.htmx:
        patch_cache_control(response, private=True, no_cache=True)
    return response


def _queue_results(request, filters, query, agents) -> str:
    """The queue's table (diagnosis/_desk_results_body.html) for this request, rendered."""
    page = selectors.ticket_queue(
        user=request.user,
        filters=filters,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        changed_since=live.seen_at(request),
    )
    faulty = terminal_health.flagged_for_tickets(page.items) if page.items else {}
    for ticket in page.items:
        ticket.faulty_terminal = terminal_health.is_flagged(ticket, faulty)
    rows = cached_rows(
        "diagnosis/_desk_row.html",
        page.items,
        name="ticket",
        key=lambda t: (
            f"{t.pk}:{t.updated_at.timestamp()}:{t.is_overdue:d}:{t.due_soon:d}"
            f":{t.faulty_terminal:d}:{t.sla_state}:{t.changed:d}"
        ),
        load=selectors.ticket_queue_rows,  # only the rows the cache does not have
    )
    context = {
        "page": page,
        "tickets": page.items,
        "rows": rows,
        "query": query,
        "current_url": request.get_full_path(),
        "bulk_form": BulkActionForm(agents=agents),
        "has_filters": bool(query),
    }
    return render_to_string("diagnosis/_desk_results_body.html", context, request=request)


@require_POST
@desk_required
def bulk_action(request):
    back = safe_next(request, reverse("diagnosis:desk"))
    form = BulkActionForm(request.POST)
    if not form.is_valid():
        for field_errors in form.errors.values():
            for error in field_errors:
                messages.error(request, error)
        return HttpResponseRedirect(back)
    tickets = selectors.desk_tickets_by_numbers(numbers=form.cleaned_data["tickets"])
    found = {t.number for t in tickets}
    missing = [n for n in form.cleaned_data["tickets"] if n not in found]
    done, refused = [], []
    action = form.cleaned_data["action"]
    for ticket in tickets:
        try:
            if action == BulkActionForm.ACTION_ASSIGN:
                ticket_services.ticket_assign(
                    ticket=ticket, actor=request.user, assignee=form.assignee_user()
                )
            else:
                ticket_services.ticket_change_status(
                    ticket=ticket,
                    actor=request.user,
                    status=form.cleaned_data["status"],
                    note=form.cleaned_data["note"],
                )
            done.append(ticket.number)
        except ValidationError as error:
            refused.append(f"{ticket.number}：{errors_text(error)}")
        except PermissionDenied:
            refused.append(f"{ticket.number}：{_('你没有权限执行这个操作。')}")
    if done:
        shown = "、".join(done[:10]) + ("…" if len(done) > 10 else "")
        messages.success(
            request,
            _("已处理 %(count)d 张工单：%(numbers)s") % {"count": len(done), "numbers": shown},
        )
    for line in refused:
        messages.error(request, _("未处理 %(detail)s") % {"detail": line})
    if missing:
        messages.error(request, _("找不到工单：%(numbers)s") % {"numbers": "、".join(missing)})
    return HttpResponseRedirect(back)


@require_POST
@desk_required
def digest_preference(request):
    """Subscribe to / unsubscribe from the daily digest e-mail (diagnosis/tickets/jobs.py)."""
    wanted = request.POST.get("daily_digest") == "on"
    get_user_model().objects.filter(pk=request.user.pk).update(daily_digest=wanted)
    if wanted:
        messages.success(request, _("已订阅每日摘要邮件：每个工作日早上发送。"))
    else:
        messages.success(request, _("已取消每日摘要邮件。"))
    return HttpResponseRedirect(safe_next(request, reverse("diagnosis:desk")))


# --- agent ticket page ---------------------------------------------------------------------------

EVENT_LABELS = {
    TicketEvent.Kind.STATUS: dict(Ticket.Status.choices),
    TicketEvent.Kind.PRIORITY: dict(Ticket.Priority.choices),
}


def _ticket_or_404(request, number) -> Ticket:
    ticket = selectors.desk_ticket_detail(number=number)
    if ticket is None or not permissions.can_work_desk_ticket(request.user, ticket):
        raise Http404
    return ticket


def _attachment_url(ticket, attachment) -> str:
    """The protected download URL (the ticket pages' view checks who may see it)."""
    return reverse("diagnosis:ticket_attachment", args=[ticket.number, attachment.pk])


def _render_ticket(request, ticket, *, forms=None, status=200):
    agents = list(selectors.desk_agents())
    events = selectors.desk_ticket_history(ticket=ticket)
    for event in events:
        labels = EVENT_LABELS.get(event.kind, {})
        event.old_label = labels.get(event.old_value, event.old_value)
        event.new_label = labels.get(event.new_value, event.new_value)
    attachments = [a for e in events for a in e.attachments.all()]
    for attachment in attachments:
        attachment.download_url = _attachment_url(ticket, attachment)
    forms = forms or {}
    context = {
        "ticket": ticket,
        "events": events,
        "conversation": [
            e for e in events if e.kind in (TicketEvent.Kind.REPLY, TicketEvent.Kind.NOTE)
        ],
        "ticket_attachments": attachments,
        "articles": selectors.desk_ticket_articles(ticket=ticket),
        "batch_items": selectors.desk_ticket_batches(ticket=ticket),
        "is_overdue": sla.is_overdue(ticket),
        "reply_form": forms.get("reply")
        or AgentReplyForm(initial={"last_event": events[-1].pk if events else 0}),
        "sla_targets": sla_clock.ticket_sla(
            created_at=ticket.created_at,
            priority=ticket.priority,
            facts=sla_clock.facts_from_events(events),
        ),
        "present": live.presence_beat(ticket_pk=ticket.pk, user=request.user),
        "note_form": forms.get("note") or AgentNoteForm(),
        "status_form": forms.get("status") or StatusForm(ticket=ticket),
        "assign_form": forms.get("assign")
        or AssignForm(initial={"assignee": ticket.assignee_id or ""}, agents=agents),
        "priority_form": forms.get("priority")
        or PriorityForm(initial={"priority": ticket.priority}),
        "is_open": workflow.is_open(ticket.status),
        "now": timezone.now(),
        **tools_context(request, ticket),  # macros, links, rating (diagnosis/desk/tools.py)
    }
    return render(request, "diagnosis/desk_ticket.html", context, status=status)


@require_GET
@desk_required
def ticket_detail(request, number):
    return _render_ticket(request, _ticket_or_404(request, number))


def _ticket_action(request, ticket, key, form, apply):
    """Validate `form`, call `apply(ticket, data)`; on error re-render the page keeping input."""
    if form.is_valid():
        try:
            message = apply(ticket, form.cleaned_data)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                problems = error.error_dict.items()
            else:
                problems = [(None, error.error_list)]
            for field, errors in problems:
                target = field if field in form.fields else None
                for item in errors:
                    form.add_error(target, item)
        else:
            messages.success(request, message)
            return HttpResponseRedirect(reverse("diagnosis:desk_ticket", args=[ticket.number]))
    return _render_ticket(request, ticket, forms={key: form}, status=400)


@require_POST
@desk_required
def ticket_reply(request, number):
    def apply(ticket, data):
        ticket_services.ticket_reply(
            ticket=ticket,
            author=request.user,
            body=data["body"],
            attachments=request.FILES.getlist("attachments"),
        )
        return _("回复已发送给商户。")

    ticket = _ticket_or_404(request, number)
    form = AgentReplyForm(request.POST)
    if form.is_valid() and not form.cleaned_data["confirm_send"]:
        # Someone else replied since the page was opened: show it, keep the text, ask again.
        newer = selectors.desk_replies_since(
            ticket=ticket, after=form.cleaned_data["last_event"] or 0, exclude_author=request.user
        )
        if newer:
            data = request.POST.copy()
            data["confirm_send"] = "on"
            form = AgentReplyForm(data)
            form.is_valid()
            form.add_error(
                None,
                _(
                    "在你打开这张工单之后，%(names)s 已经回复了。请先看看新回复；确认仍要发送，"
                    "请点“仍然发送”（附件需要重新选择）。"
                )
                % {
                    "names": "、".join(
                        sorted({e.author.get_username() if e.author else "—" for e in newer})
                    )
                },
            )
            form.newer_replies = newer
            return _render_ticket(request, ticket, forms={"reply": form}, status=409)
    return _ticket_action(request, ticket, "reply", form, apply)


@require_POST
@desk_required
def ticket_note(request, number):
    def apply(ticket, data):
        ticket_services.ticket_reply(
            ticket=ticket,
            author=request.user,
            body=data["body"],
            internal=True,
            attachments=request.FILES.getlist("attachments"),
        )
        return _("内部备注已保存（商户看不到）。")

    ticket = _ticket_or_404(request, number)
    return _ticket_action(request, ticket, "note", AgentNoteForm(request.POST), apply)


@require_POST
@desk_required
def ticket_status(request, number):
    ticket = _ticket_or_404(request, number)

    def apply(ticket, data):
        ticket_services.ticket_change_status(
            ticket=ticket, actor=request.user, status=data["status"], note=data["note"]
        )
        return _("状态已改为“%(status)s”。") % {"status": ticket.get_status_display()}

    return _ticket_action(request, ticket, "status", StatusForm(request.POST, ticket=ticket), apply)


@require_POST
@desk_required
def ticket_assign(request, number):
    ticket = _ticket_or_404(request, number)
    agents = list(selectors.desk_agents())
    if request.POST.get("assign_to_me"):
        data = request.POST.copy()
        data["assignee"] = str(request.user.pk)
    else:
        data = request.POST
    form = AssignForm(data, agents=agents)

    def apply(ticket, cleaned):
        assignee = form.assignee_user()
        ticket_services.ticket_assign(ticket=ticket, actor=request.user, assignee=assignee)
        if assignee is None:
            return _("已取消指派。")
        return _("已指派给 %(name)s。") % {"name": assignee.get_username()}

    return _ticket_action(request, ticket, "assign", form, apply)


@require_POST
@desk_required
def ticket_priority(request, number):
    def apply(ticket, data):
        ticket_services.ticket_set_priority(
            ticket=ticket, actor=request.user, priority=data["priority"]
        )
        return _("优先级已改为“%(priority)s”。") % {"priority": ticket.get_priority_display()}

    ticket = _ticket_or_404(request, number)
    return _ticket_action(request, ticket, "priority", PriorityForm(request.POST), apply)

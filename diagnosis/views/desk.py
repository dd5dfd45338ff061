"""The agents' desk: queue, agent ticket page, bulk actions, escalation batches and exports.

Thin views: parse input with diagnosis.forms_desk, read with diagnosis.selectors.desk, write with
diagnosis.services.{tickets,escalations}; every access decision is in diagnosis.permissions.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from config import pagecache
from config.fragments import cached_rows
from diagnosis import permissions, workflow
from diagnosis.exports import (
    escalation_csv,
    escalation_rows,
    escalation_xlsx,
    export_columns,
    export_filename,
)
from diagnosis.forms_desk import (
    AssignForm,
    BankReferenceForm,
    BatchActionForm,
    BatchFilterForm,
    BulkActionForm,
    EscalationCreateForm,
    NoteForm,
    PriorityForm,
    QueueFilterForm,
    ReplyForm,
    StatusForm,
)
from diagnosis.insight import terminal_health
from diagnosis.models import EscalationBatch, EscalationItem, Ticket, TicketEvent
from diagnosis.selectors import desk as selectors
from diagnosis.services import escalations as escalation_services
from diagnosis.services import tickets as ticket_services

desk_required = permissions.role_required(permissions.can_use_desk)
escalations_required = permissions.role_required(permissions.can_manage_escalations)

QUEUE_PARAMS = set(QueueFilterForm.base_fields)


def _errors_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _queue_query(data: QueryDict) -> str:
    """The filter part of a query string (no cursors), for links that keep the filters."""
    pairs = [(k, v) for k in data for v in data.getlist(k) if k in QUEUE_PARAMS and v != ""]
    return urlencode(pairs)


# --- queue ---------------------------------------------------------------------------------------


@require_GET
@desk_required
@vary_on_headers("HX-Request")
def queue(request):
    scrubbed = QueueFilterForm.scrubbed_query(request.GET)
    if scrubbed is not None:
        # A card number typed into a filter must not stay in the URL (history, logs, links).
        return HttpResponseRedirect(f"{request.path}?{scrubbed.urlencode()}")
    agents = list(selectors.desk_agents())
    form = QueueFilterForm(request.GET or None, agents=agents)
    filters = form.filters()
    page = selectors.ticket_queue(
        user=request.user,
        filters=filters,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
    )
    query = _queue_query(request.GET)
    faulty = terminal_health.flagged_tids([t.tid for t in page.rows]) if page.rows else {}
    for ticket in page.rows:
        ticket.faulty_terminal = ticket.tid in faulty
    rows = cached_rows(
        "diagnosis/_desk_row.html",
        page.rows,
        name="ticket",
        key=lambda t: f"{t.pk}:{t.updated_at.timestamp()}:{t.is_overdue:d}:{t.faulty_terminal:d}",
    )
    shortcuts = [
        ("me", _("分配给我"), urlencode({"assignee": "me"}), filters.get("assignee") == "me"),
        (
            "none",
            _("未分配"),
            urlencode({"assignee": "none"}),
            filters.get("assignee") == "none",
        ),
        ("overdue", _("已超时"), urlencode({"overdue": "on"}), bool(filters.get("overdue"))),
    ]
    context = {
        "form": form,
        "page": page,
        "tickets": page.rows,
        "rows": rows,
        "query": query,
        "current_url": request.get_full_path(),
        "bulk_form": BulkActionForm(agents=agents),
        "shortcuts": shortcuts,
        "has_filters": bool(query),
        "now": timezone.now(),
        # The filter form renders a dozen widgets with their choices (≈ a third of the page's
        # time): kept as a fragment, keyed by everything it shows (filters, agents, content
        # version for banks and categories) and the language.
        "filters_key": "|".join(
            (
                get_language() or "",
                query,
                pagecache.pages_version(),
                ",".join(f"{a.pk}:{a.get_username()}:{a.get_full_name()}" for a in agents),
            )
        ),
    }
    template = "diagnosis/desk_queue.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, context)


@require_POST
@desk_required
def bulk_action(request):
    back = _safe_next(request, reverse("diagnosis:desk"))
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
            refused.append(f"{ticket.number}：{_errors_text(error)}")
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
        "is_overdue": selectors.is_overdue(ticket),
        "reply_form": forms.get("reply") or ReplyForm(),
        "note_form": forms.get("note") or NoteForm(),
        "status_form": forms.get("status") or StatusForm(ticket=ticket),
        "assign_form": forms.get("assign")
        or AssignForm(initial={"assignee": ticket.assignee_id or ""}, agents=agents),
        "priority_form": forms.get("priority")
        or PriorityForm(initial={"priority": ticket.priority}),
        "is_open": workflow.is_open(ticket.status),
        "now": timezone.now(),
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
    return _ticket_action(request, ticket, "reply", ReplyForm(request.POST), apply)


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
    return _ticket_action(request, ticket, "note", NoteForm(request.POST), apply)


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


# --- escalation batches --------------------------------------------------------------------------


def _batch_or_404(request, number) -> EscalationBatch:
    batch = selectors.escalation_detail(number=number)
    if batch is None or not permissions.can_view_escalation(request.user, batch):
        raise Http404
    return batch


@require_GET
@escalations_required
@vary_on_headers("HX-Request")
def escalation_list(request):
    form = BatchFilterForm(request.GET or None)
    page = selectors.escalation_list(
        filters=form.filters(),
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
    )
    query = urlencode([(k, v) for k in ("status", "acquirer") for v in request.GET.getlist(k) if v])
    context = {"form": form, "page": page, "batches": page.rows, "query": query}
    template = "diagnosis/escalation_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, context)


@require_POST
@escalations_required
def escalation_new(request):
    """Step 1 (from the queue's bulk form): confirm the tickets and add a note. Step 2: create."""
    form = EscalationCreateForm(request.POST)
    back = _safe_next(request, reverse("diagnosis:desk"))
    if not form.is_valid() and "tickets" in form.errors:
        for error in form.errors["tickets"]:
            messages.error(request, error)
        return HttpResponseRedirect(back)
    tickets = selectors.desk_tickets_by_numbers(numbers=form.cleaned_data.get("tickets", []))
    if not tickets:
        messages.error(request, _("找不到所选的工单。"))
        return HttpResponseRedirect(back)
    groups = {}
    for ticket in tickets:
        groups.setdefault(ticket.acquirer_id, {"acquirer": ticket.acquirer, "tickets": []})
        groups[ticket.acquirer_id]["tickets"].append(ticket)
    error = None
    if request.POST.get("confirm") and form.is_valid():
        try:
            batch = escalation_services.escalation_create(
                actor=request.user, tickets=tickets, note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            error = exc
        else:
            messages.success(
                request,
                _("已创建批次 %(batch)s（%(count)d 张工单）。核对后点击“标记为已发送”。")
                % {"batch": batch.number, "count": len(tickets)},
            )
            return HttpResponseRedirect(reverse("diagnosis:escalation_detail", args=[batch.number]))
    mixed = len(groups) > 1
    refused = error or mixed or (request.POST.get("confirm") and not form.is_valid())
    status = 400 if refused else 200
    return render(
        request,
        "diagnosis/escalation_new.html",
        {
            "form": form,
            "tickets": tickets,
            "groups": list(groups.values()),
            "mixed": mixed,
            "error_messages": error.messages if error else [],
            "next": back,
        },
        status=status,
    )


@require_GET
@escalations_required
def escalation_detail(request, number):
    batch = _batch_or_404(request, number)
    return _render_batch(request, batch)


def _render_batch(request, batch, *, status=200, reference_errors=None):
    items = list(batch.items.all())
    context = {
        "batch": batch,
        "items": items,
        "next_statuses": escalation_services.escalation_batch_next_statuses(batch),
        "can_edit_references": batch.status
        in (EscalationBatch.Status.SENT, EscalationBatch.Status.ANSWERED),
        "reference_errors": reference_errors or {},
        "columns": export_columns(),
    }
    return render(request, "diagnosis/escalation_detail.html", context, status=status)


BATCH_ACTIONS = {
    "sent": (
        escalation_services.escalation_mark_sent,
        gettext_lazy("批次已标记为已发送，工单已改为“已提交银行”。"),
    ),
    "answered": (
        escalation_services.escalation_mark_answered,
        gettext_lazy("批次已标记为银行已答复。"),
    ),
    "closed": (escalation_services.escalation_mark_closed, gettext_lazy("批次已关闭。")),
}


@require_POST
@escalations_required
def escalation_status(request, number):
    batch = _batch_or_404(request, number)
    form = BatchActionForm(request.POST)
    if form.is_valid():
        service, message = BATCH_ACTIONS[form.cleaned_data["action"]]
        try:
            service(batch=batch, actor=request.user)
        except ValidationError as error:
            for line in error.messages:
                messages.error(request, line)
        else:
            messages.success(request, str(message))
    else:
        messages.error(request, _("请选择一个操作。"))
    return HttpResponseRedirect(reverse("diagnosis:escalation_detail", args=[batch.number]))


def _item_or_404(batch, item_id) -> EscalationItem:
    for item in batch.items.all():
        if item.pk == item_id:
            return item
    raise Http404


@require_POST
@escalations_required
def escalation_reference(request, number, item_id):
    batch = _batch_or_404(request, number)
    item = _item_or_404(batch, item_id)
    form = BankReferenceForm(request.POST)
    if form.is_valid():
        try:
            escalation_services.escalation_set_bank_reference(
                item=item, reference=form.cleaned_data["reference"], actor=request.user
            )
        except ValidationError as error:
            return _render_batch(
                request, batch, status=400, reference_errors={item.pk: error.messages}
            )
        messages.success(
            request, _("%(ticket)s 的银行受理号已保存。") % {"ticket": item.ticket.number}
        )
        return HttpResponseRedirect(
            reverse("diagnosis:escalation_detail", args=[batch.number]) + f"#item-{item.pk}"
        )
    errors = [e for errs in form.errors.values() for e in errs]
    return _render_batch(request, batch, status=400, reference_errors={item.pk: errors})


@require_POST
@escalations_required
def escalation_remove_item(request, number, item_id):
    batch = _batch_or_404(request, number)
    item = _item_or_404(batch, item_id)
    try:
        escalation_services.escalation_remove_item(item=item, actor=request.user)
    except ValidationError as error:
        for line in error.messages:
            messages.error(request, line)
    else:
        messages.success(request, _("已从批次移除 %(ticket)s。") % {"ticket": item.ticket.number})
    return HttpResponseRedirect(reverse("diagnosis:escalation_detail", args=[batch.number]))


@require_POST
@escalations_required
def escalation_discard(request, number):
    batch = _batch_or_404(request, number)
    try:
        escalation_services.escalation_discard(batch=batch, actor=request.user)
    except ValidationError as error:
        for line in error.messages:
            messages.error(request, line)
        return HttpResponseRedirect(reverse("diagnosis:escalation_detail", args=[batch.number]))
    messages.success(request, _("草稿批次 %(batch)s 已删除。") % {"batch": batch.number})
    return HttpResponseRedirect(reverse("diagnosis:escalation_list"))


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store, private"
    return response


@require_GET
@escalations_required
def escalation_export_csv(request, number):
    batch = _batch_or_404(request, number)
    return _download(
        escalation_csv(batch), "text/csv; charset=utf-8", export_filename(batch, "csv")
    )


@require_GET
@escalations_required
def escalation_export_xlsx(request, number):
    batch = _batch_or_404(request, number)
    return _download(
        escalation_xlsx(batch),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        export_filename(batch, "xlsx"),
    )


@require_GET
@escalations_required
def escalation_print(request, number):
    batch = _batch_or_404(request, number)
    columns = export_columns()
    rows = [[row[key] for key, _header in columns] for row in escalation_rows(batch)]
    response = render(
        request,
        "diagnosis/escalation_print.html",
        {"batch": batch, "columns": columns, "rows": rows, "printed_at": timezone.now()},
    )
    response["Cache-Control"] = "no-store, private"
    return response

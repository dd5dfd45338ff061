"""Escalation batches to the acquiring bank: list, create, status, bank references, exports.

Thin views: parse input with diagnosis.escalations.forms, read with diagnosis.escalations.selectors,
write with diagnosis.escalations.services; every access decision is in diagnosis.core.permissions.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from diagnosis.core import permissions
from diagnosis.core.http import download, safe_next
from diagnosis.desk import selectors as desk_selectors
from diagnosis.escalations import replies, selectors, turnaround
from diagnosis.escalations import services as escalation_services
from diagnosis.escalations.exports import (
    escalation_csv,
    escalation_rows,
    escalation_xlsx,
    export_columns,
    export_filename,
)
from diagnosis.escalations.forms import (
    BankReferenceForm,
    BankReplyUploadForm,
    BatchActionForm,
    BatchFilterForm,
    EscalationCreateForm,
)
from diagnosis.models import EscalationBatch, EscalationItem, EscalationTemplate

escalations_required = permissions.role_required(permissions.can_manage_escalations)


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
    now = timezone.now()
    for batch in page.items:
        batch.overdue = turnaround.is_overdue(batch, now)
    query = urlencode([(k, v) for k in ("status", "acquirer") for v in request.GET.getlist(k) if v])
    context = {"form": form, "page": page, "batches": page.items, "query": query}
    template = "diagnosis/escalation_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, context)


@require_POST
@escalations_required
def escalation_new(request):
    """Step 1 (from the queue's bulk form): confirm the tickets and add a note. Step 2: create."""
    form = EscalationCreateForm(request.POST)
    back = safe_next(request, reverse("diagnosis:desk"))
    if not form.is_valid() and "tickets" in form.errors:
        for error in form.errors["tickets"]:
            messages.error(request, error)
        return HttpResponseRedirect(back)
    tickets = desk_selectors.desk_tickets_by_numbers(numbers=form.cleaned_data.get("tickets", []))
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


def _render_batch(request, batch, *, status=200, reference_errors=None, upload_form=None,
                  import_errors=()):  # fmt: skip
    items = list(batch.items.all())
    context = {
        "upload_form": upload_form or BankReplyUploadForm(),
        "import_errors": import_errors,
        "can_import": batch.status
        in (EscalationBatch.Status.SENT, EscalationBatch.Status.ANSWERED),
        "batch": batch,
        "items": items,
        "next_statuses": escalation_services.escalation_batch_next_statuses(batch),
        "can_edit_references": batch.status
        in (EscalationBatch.Status.SENT, EscalationBatch.Status.ANSWERED),
        "reference_errors": reference_errors or {},
        "template": EscalationTemplate.for_bank(batch.acquirer),
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


@require_POST
@escalations_required
def escalation_send(request, number):
    """Send to bank (a draft) or resend (explicit, `resend=1`): the mail goes from a task."""
    batch = _batch_or_404(request, number)
    resend = request.POST.get("resend") == "1"
    try:
        escalation_services.escalation_request_send(batch=batch, actor=request.user, resend=resend)
    except ValidationError as error:
        for line in error.messages:
            messages.error(request, line)
    else:
        batch.refresh_from_db(fields=["status", "send_state", "send_error", "message_id"])
        if batch.send_state == "failed":
            messages.error(request, _("邮件没有发出：%(error)s") % {"error": batch.send_error})
        elif batch.send_state == "queued":
            messages.success(request, _("邮件已排队发送，发出后批次会改为“已发送”。"))
        else:
            messages.success(request, _("邮件已发给银行。"))
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


@require_GET
@escalations_required
def escalation_export_csv(request, number):
    batch = _batch_or_404(request, number)
    template = EscalationTemplate.for_bank(batch.acquirer)
    charset = "gbk" if template.csv_encoding == "gbk" else "utf-8"
    return download(
        escalation_csv(batch, template),
        f"text/csv; charset={charset}",
        export_filename(batch, "csv"),
    )


@require_GET
@escalations_required
def escalation_export_xlsx(request, number):
    batch = _batch_or_404(request, number)
    return download(
        escalation_xlsx(batch, EscalationTemplate.for_bank(batch.acquirer)),
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


# --- the bank's answers ------------------------------------------------------------------------

REPLIES_MAX_AGE = 3600  # a preview can be confirmed for an hour


def _replies_salt(batch) -> str:
    return f"escalation-replies:{batch.pk}"


@require_POST
@escalations_required
def escalation_import(request, number):
    """Upload the bank's reply file: a preview (nothing is written yet) with a confirm form."""
    batch = _batch_or_404(request, number)
    form = BankReplyUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_batch(request, batch, status=400, upload_form=form)
    upload = form.cleaned_data["file"]
    template = EscalationTemplate.for_bank(batch.acquirer)
    parsed = replies.read_reply_file(upload.read(), upload.name, template)
    if parsed.errors:
        return _render_batch(request, batch, status=400, upload_form=form,
                             import_errors=parsed.errors)  # fmt: skip
    entries = replies.classify(parsed.rows, selectors.reply_candidates(bank=batch.acquirer,
                                                                       batch=batch))  # fmt: skip
    payload = signing.dumps(parsed.as_data(), salt=_replies_salt(batch), compress=True)
    counts = replies.summary(entries)
    labels = replies.status_labels()
    response = render(
        request,
        "diagnosis/escalation_import.html",
        {
            "batch": batch,
            "entries": entries,
            "summary": [(key, labels[key], counts[key]) for key in replies.STATUS_ORDER],
            "labels": labels,
            "payload": payload,
            "will_write": counts[replies.MATCHED],
            "file_name": upload.name,
        },
    )
    response["Cache-Control"] = "no-store, private"
    return response


@require_POST
@escalations_required
def escalation_import_confirm(request, number):
    batch = _batch_or_404(request, number)
    try:
        data = signing.loads(
            request.POST.get("payload", ""), salt=_replies_salt(batch), max_age=REPLIES_MAX_AGE
        )
        rows = replies.rows_from_data(data)
    except (signing.BadSignature, TypeError, ValueError):
        messages.error(request, _("预览已过期或无效，请重新上传银行答复文件。"))
        return HttpResponseRedirect(reverse("diagnosis:escalation_detail", args=[batch.number]))
    try:
        entries = escalation_services.escalation_replies_apply(
            actor=request.user, bank=batch.acquirer, rows=rows, batch=batch
        )
    except (ValidationError, PermissionDenied) as error:
        for line in getattr(error, "messages", [_("没有权限。")]):
            messages.error(request, line)
    else:
        counts = replies.summary(entries)
        messages.success(
            request,
            _("已写入 %(done)d 条银行答复；未匹配 %(unmatched)d，无法确定 %(ambiguous)d，"
              "已答复 %(answered)d，冲突 %(conflict)d，状态不允许 %(blocked)d。")
            % {"done": counts[replies.MATCHED], **counts},
        )  # fmt: skip
    return HttpResponseRedirect(reverse("diagnosis:escalation_detail", args=[batch.number]))

"""Merchant ticket pages under /tickets/: list, record a decline, detail + timeline, reply, close,
reopen, attachments (permission-checked downloads) and API tokens. Thin: parse, call, render."""

import mimetypes

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from config.fragments import cached_rows
from diagnosis.core import permissions
from diagnosis.core.cards import scrub_text
from diagnosis.core.validators import response_code_validator
from diagnosis.models import Ticket
from diagnosis.tickets import api_tokens as token_services
from diagnosis.tickets import selectors, services, workflow
from diagnosis.tickets.attachments import EXTENSIONS
from diagnosis.tickets.forms import (
    ApiTokenForm,
    MerchantReplyForm,
    StatusNoteForm,
    TicketForm,
)
from diagnosis.tickets.satisfaction_views import rating_context

merchant_only = permissions.role_required(permissions.can_record_tickets)

STATUS_FILTERS = [("", None), ("open", None), *Ticket.Status.choices]


def _status_filters(current):
    labels = {"": _("全部"), "open": _("未完成")}
    return [
        {"value": value, "label": labels.get(value, label), "current": value == current}
        for value, label in STATUS_FILTERS
    ]


# --- list --------------------------------------------------------------------------------------


@require_POST
@merchant_only
def incident_mail_preference(request):
    """Turn the acquirer incident e-mails (diagnosis/insight/notices.py) on or off."""
    wanted = request.POST.get("incident_mail") == "on"
    get_user_model().objects.filter(pk=request.user.pk).update(incident_mail=wanted)
    if wanted:
        messages.success(request, _("收单行出现故障和恢复时会发邮件通知您。"))
    else:
        messages.success(request, _("已关闭收单行故障通知邮件。"))
    return HttpResponseRedirect(reverse("diagnosis:ticket_list"))


@vary_on_headers("HX-Request")
@require_GET
@merchant_only
def ticket_list(request):
    status = request.GET.get("status", "")
    if status not in ("", "open", *Ticket.Status.values):
        status = ""
    page = selectors.ticket_list_for_user(
        user=request.user,
        status=status,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        keys_only=True,
    )
    rows = cached_rows(
        "diagnosis/_ticket_row.html",
        page.items,
        name="ticket",
        key=lambda t: f"{t.pk}:{t.updated_at.timestamp()}",
        load=selectors.ticket_list_rows,  # only the rows the cache does not have
    )
    context = {
        "page": page,
        "rows": rows,
        "status": status,
        "status_filters": _status_filters(status),
    }
    template = "diagnosis/ticket_list.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


# --- new ---------------------------------------------------------------------------------------


def _prefill(params) -> dict:
    """Initial values handed over by the wizard or a code page: ?code=51&category=…&summary=…"""
    initial = {}
    code = (params.get("code") or "").strip().upper()
    try:
        response_code_validator(code)
    except ValidationError:
        code = ""
    if code:
        initial["response_code"] = code
    category = (params.get("category") or "").strip()[:40]
    if category:
        initial["category"] = category
    summary = scrub_text((params.get("summary") or "").strip())[:4000]
    if summary:
        initial["wizard_summary"] = summary
    return initial


def _category_label(key):
    from knowledge.models import Category

    # The raw posted value: a NUL byte would make PostgreSQL refuse the query (500).
    valid = isinstance(key, str) and key and "\x00" not in key and len(key) <= 100
    category = Category.objects.filter(key=key).first() if valid else None
    return category.name if category else ""


@never_cache
@require_http_methods(["GET", "POST"])
@merchant_only
def ticket_new(request):
    merchant = request.user.merchant
    duplicates = []
    files_dropped = False
    if request.method == "POST":
        form = TicketForm(request.POST, request.FILES, merchant=merchant)
        if form.is_valid():
            duplicates = services.ticket_find_duplicates(**form.duplicate_kwargs())
            if duplicates and not form.cleaned_data["confirm_duplicates"]:
                # Ask before saving; files cannot be re-sent by the browser, say so.
                files_dropped = bool(form.cleaned_data.get("attachments"))
            else:
                services.ticket_create_rate_check(request, merchant=merchant)
                try:
                    ticket = services.ticket_create(
                        merchant=merchant, user=request.user, **form.service_kwargs()
                    )
                except ValidationError as error:
                    form.add_service_errors(error)
                else:
                    messages.success(
                        request,
                        _("已记录工单 %(number)s。我们会尽快回复，进展会通过邮件通知您。")
                        % {"number": ticket.number},
                    )
                    return redirect(ticket)
    else:
        form = TicketForm(initial=_prefill(request.GET), merchant=merchant)
    summary = form["wizard_summary"].value() or ""
    category_key = form["category"].value() or ""
    context = {
        "form": form,
        "duplicates": duplicates,
        "files_dropped": files_dropped,
        "wizard_summary": summary,
        "category_label": _category_label(category_key),
        "has_terminals": form.fields["terminal"].queryset.exists(),
    }
    return render(request, "diagnosis/ticket_new.html", context)


# --- detail and actions ------------------------------------------------------------------------


def _code_url(code):
    """The knowledge page of the ticket's response code (none when no code was given)."""
    return reverse("knowledge:code_detail", args=[code]) if code else None


def _detail_context(request, ticket, *, reply_form=None, note_form=None):
    user = request.user
    timeline = selectors.ticket_timeline_for_user(user=user, ticket=ticket)
    created = next((e for e in timeline if e.kind == "created"), None)
    return {
        "ticket": ticket,
        "timeline": [event for event in timeline if event is not created],
        "initial_attachments": list(created.attachments.all()) if created else [],
        "reply_form": reply_form or MerchantReplyForm(),
        "note_form": note_form or StatusNoteForm(),
        "can_reply": permissions.can_reply_ticket(user, ticket),
        "can_close": permissions.can_close_ticket(user, ticket),
        "can_reopen": permissions.can_reopen_ticket(user, ticket),
        "reopen_deadline": workflow.reopen_deadline(ticket),
        "flow": workflow.FLOW,
        "code_url": _code_url(ticket.response_code),
        "status_choices": Ticket.Status.choices,
        **rating_context(user, ticket),  # satisfaction (diagnosis/tickets/satisfaction_views.py)
    }


@require_GET
@login_required
def ticket_detail(request, number):
    if not permissions.can_record_tickets(request.user):
        # Agents work on tickets from the desk; everyone else has no business here.
        if permissions.can_use_desk(request.user):
            return HttpResponseRedirect(reverse("diagnosis:desk_ticket", args=[number]))
        raise PermissionDenied
    ticket = selectors.ticket_get_for_user(user=request.user, number=number)
    return render(request, "diagnosis/ticket_detail.html", _detail_context(request, ticket))


@require_POST
@merchant_only
def ticket_reply(request, number):
    ticket = selectors.ticket_get_for_user(user=request.user, number=number)
    form = MerchantReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.ticket_reply(
                ticket=ticket,
                author=request.user,
                body=form.cleaned_data["body"],
                attachments=form.cleaned_data["attachments"],
            )
        except PermissionDenied:
            messages.error(request, _("这个工单已解决或关闭，请先重新打开再回复。"))
            return redirect(ticket)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("回复已发送。"))
            return redirect(f"{ticket.get_absolute_url()}#timeline-end")
    context = _detail_context(request, ticket, reply_form=form)
    return render(request, "diagnosis/ticket_detail.html", context)


def _status_action(request, number, service, success_message):
    ticket = selectors.ticket_get_for_user(user=request.user, number=number)
    form = StatusNoteForm(request.POST)
    if not form.is_valid():
        context = _detail_context(request, ticket, note_form=form)
        return render(request, "diagnosis/ticket_detail.html", context)
    try:
        service(ticket=ticket, actor=request.user, note=form.cleaned_data["note"])
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    except PermissionDenied:
        messages.error(request, _("您不能修改这个工单的状态。"))
    else:
        messages.success(request, success_message)
    return redirect(ticket)


@require_POST
@merchant_only
def ticket_close(request, number):
    return _status_action(request, number, services.ticket_close, _("工单已关闭。"))


@require_POST
@merchant_only
def ticket_reopen(request, number):
    return _status_action(
        request, number, services.ticket_reopen, _("工单已重新打开，我们会继续处理。")
    )


@never_cache
@require_GET
@login_required
def ticket_attachment(request, number, pk):
    """Stream an attachment to someone who may see it; everyone else gets a 404."""
    attachment = selectors.attachment_get_for_user(user=request.user, number=number, pk=pk)
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError) as error:
        raise Http404("Attachment file is missing") from error
    extension = EXTENSIONS.get(attachment.content_type) or (
        mimetypes.guess_extension(attachment.content_type) or ""
    ).lstrip(".")
    base = attachment.original_name.rsplit(".", 1)[0] or "attachment"
    inline = attachment.content_type.startswith("image/")
    response = FileResponse(
        handle,
        content_type=attachment.content_type,
        as_attachment=not inline,
        filename=f"{base}.{extension}" if extension else base,
    )
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- API tokens --------------------------------------------------------------------------------

token_owner_only = permissions.role_required(permissions.can_manage_api_tokens)


@never_cache
@require_http_methods(["GET", "POST"])
@token_owner_only
def api_tokens(request):
    new_token = ""
    if request.method == "POST":
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            _token, new_token = token_services.api_token_create(
                user=request.user, name=form.cleaned_data["name"]
            )
            form = ApiTokenForm()
    else:
        form = ApiTokenForm()
    context = {
        "form": form,
        "new_token": new_token,
        "tokens": selectors.api_tokens_for_user(user=request.user),
        "api_base": request.build_absolute_uri("/api/v1/tickets"),
        "expiry_days": token_services.expiry_days(),
    }
    response = render(request, "diagnosis/ticket_api_tokens.html", context)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@token_owner_only
def api_token_revoke(request, pk):
    token = selectors.api_token_get_for_user(user=request.user, pk=pk)
    token_services.api_token_revoke(token=token, actor=request.user)
    messages.success(request, _("令牌 %(prefix)s… 已停用。") % {"prefix": token.prefix})
    return redirect("diagnosis:ticket_api_tokens")

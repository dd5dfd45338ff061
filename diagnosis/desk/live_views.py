"""The live desk's small endpoints: presence on a ticket page, saved queue views.

Kept beside views.py (the queue and the ticket page) so each piece stays small; permissions come
from diagnosis.core.permissions, writes from diagnosis.desk.saved_views.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from diagnosis.core import permissions
from diagnosis.core.http import errors_text
from diagnosis.desk import live, saved_views
from diagnosis.models import SavedView, Ticket

desk_required = permissions.role_required(permissions.can_use_desk)


@require_POST
@desk_required
def presence(request, number):
    """Heartbeat of an open ticket page (htmx, every 10 s): who else is viewing or replying."""
    pk = Ticket.objects.filter(number=number).values_list("pk", flat=True).first()
    if pk is None:
        raise Http404
    others = live.presence_beat(ticket_pk=pk, user=request.user, state=request.POST.get("state"))
    if not request.htmx:
        return HttpResponseRedirect(reverse("diagnosis:desk_ticket", args=[number]))
    return render(
        request,
        "diagnosis/_desk_presence.html",
        {"present": others, "presence_url": request.path},
    )


@require_POST
@desk_required
def saved_view_create(request):
    query = request.POST.get("query", "")
    try:
        view = saved_views.saved_view_create(
            owner=request.user,
            name=request.POST.get("name", ""),
            query=query,
            shared=request.POST.get("shared") == "on",
        )
    except ValidationError as error:
        messages.error(request, errors_text(error))
        back = saved_views.clean_query(query)
        return HttpResponseRedirect(reverse("diagnosis:desk") + (f"?{back}" if back else ""))
    messages.success(request, _("已保存视图“%(name)s”。") % {"name": view.name})
    return HttpResponseRedirect(
        reverse("diagnosis:desk") + (f"?{view.query}" if view.query else "")
    )


@require_POST
@desk_required
def saved_view_delete(request, pk):
    view = get_object_or_404(SavedView, pk=pk)
    if not (view.shared or view.owner_id == request.user.pk):
        raise Http404
    try:
        saved_views.saved_view_delete(view=view, actor=request.user)
    except PermissionDenied:
        messages.error(request, _("只有创建者可以删除这个视图。"))
    else:
        messages.success(request, _("已删除视图“%(name)s”。") % {"name": view.name})
    return HttpResponseRedirect(reverse("diagnosis:desk"))


# --- staff API tokens (the agent's own page) -----------------------------------------------------

tokens_required = permissions.role_required(permissions.can_manage_staff_api_tokens)


@tokens_required
def staff_tokens(request):
    from diagnosis.desk import api_tokens
    from diagnosis.tickets.forms import ApiTokenForm

    new_token = ""
    if request.method == "POST":
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            _token, new_token = api_tokens.staff_token_create(
                user=request.user, name=form.cleaned_data["name"]
            )
            form = ApiTokenForm()
    else:
        form = ApiTokenForm()
    context = {
        "form": form,
        "new_token": new_token,
        "tokens": api_tokens.staff_tokens_for_user(user=request.user),
        "api_base": request.build_absolute_uri("/api/v1/desk/tickets"),
        "expiry_days": api_tokens.expiry_days(),
    }
    response = render(request, "diagnosis/desk_api_tokens.html", context)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@tokens_required
def staff_token_revoke(request, pk):
    from diagnosis.desk import api_tokens
    from diagnosis.models import StaffApiToken

    token = get_object_or_404(StaffApiToken, pk=pk, user=request.user)
    api_tokens.staff_token_revoke(token=token, actor=request.user)
    messages.success(request, _("令牌 %(prefix)s… 已停用。") % {"prefix": token.prefix})
    return HttpResponseRedirect(reverse("diagnosis:desk_api_tokens"))

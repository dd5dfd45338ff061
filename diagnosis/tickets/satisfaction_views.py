"""Pages of the merchant's satisfaction rating: from the ticket page (logged in) and from the
signed, single-use link in the resolution e-mail (no login needed: the signature is the proof)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from diagnosis.core import permissions
from diagnosis.core.forms import CardSafeFormMixin
from diagnosis.models import SatisfactionRating, TicketLink
from diagnosis.tickets import satisfaction, selectors, workflow

merchant_only = permissions.role_required(permissions.can_record_tickets)


class RatingForm(CardSafeFormMixin, forms.Form):
    score = forms.TypedChoiceField(
        label=gettext_lazy("您对这次处理满意吗？（1 分最差，5 分最好）"),
        choices=[(n, str(n)) for n in satisfaction.SCORES],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择 1 到 5 分。")},
    )
    comment = forms.CharField(
        label=gettext_lazy("意见（可选）"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("请不要填写卡号。"),
    )


def rating_context(user, ticket) -> dict:
    """For the merchant's ticket page, once the ticket is done: the rating (form) and, for a
    merged duplicate, the ticket it was merged into (two queries; none for open tickets)."""
    if ticket.status not in workflow.DONE_STATUSES:
        return {}
    context = {
        "merged_into": TicketLink.objects.filter(source=ticket, kind=TicketLink.Kind.MERGED)
        .select_related("target")
        .first()
    }
    if permissions.can_rate_ticket(user, ticket) and context["merged_into"] is None:
        rating = SatisfactionRating.objects.filter(ticket=ticket).first()
        context.update(can_rate=rating is None, rating=rating, rating_form=RatingForm())
    return context


def _save(request, ticket, form, **kwargs) -> bool:
    if not form.is_valid():
        return False
    try:
        satisfaction.rating_create(
            ticket=ticket,
            score=form.cleaned_data["score"],
            comment=form.cleaned_data["comment"],
            **kwargs,
        )
    except ValidationError as error:
        for field, errors in error.message_dict.items():
            for message in errors:
                form.add_error(field if field in form.fields else None, message)
        return False
    return True


@require_POST
@merchant_only
def rate_ticket(request, number):
    ticket = selectors.ticket_get_for_user(user=request.user, number=number)
    if not permissions.can_rate_ticket(request.user, ticket):
        raise PermissionDenied
    form = RatingForm(request.POST)
    if _save(request, ticket, form, user=request.user):
        messages.success(request, _("谢谢您的评价！"))
        return HttpResponseRedirect(ticket.get_absolute_url() + "#rating")
    return render(
        request,
        "diagnosis/ticket_rate.html",
        {"ticket": ticket, "form": form, "action": request.path},
        status=400,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def rate_by_link(request, token):
    """The resolution e-mail's link: works once, for that resolution, without logging in."""
    ticket = satisfaction.ticket_from_token(token)
    if ticket is None:
        return render(request, "diagnosis/ticket_rate.html", {"invalid": True}, status=404)
    if SatisfactionRating.objects.filter(ticket=ticket).exists():
        return render(request, "diagnosis/ticket_rate.html", {"ticket": ticket, "done": True})
    form = RatingForm(request.POST if request.method == "POST" else None)
    user = request.user if permissions.can_rate_ticket(request.user, ticket) else None
    if request.method == "POST" and _save(request, ticket, form, user=user, via_link=True):
        return render(
            request, "diagnosis/ticket_rate.html", {"ticket": ticket, "done": True, "thanks": True}
        )
    status = 400 if form.is_bound else 200
    return render(
        request,
        "diagnosis/ticket_rate.html",
        {"ticket": ticket, "form": form, "action": reverse("diagnosis:rate_by_link", args=[token])},
        status=status,
    )

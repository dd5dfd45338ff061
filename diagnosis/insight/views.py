"""Decline insight for agents: the dashboard (/desk/insight/), its CSV downloads, and incidents
(/desk/incidents/). Thin views: forms in diagnosis.insight.forms, reads in
diagnosis.insight.aggregates, writes in diagnosis.insight.services; access in
diagnosis.core.permissions."""

import csv

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from diagnosis.core import permissions
from diagnosis.core.pagination import keyset_page
from diagnosis.insight import aggregates, services, svg, terminal_health
from diagnosis.insight.forms import (
    IncidentFilterForm,
    IncidentLinkForm,
    IncidentReplyForm,
    IncidentStatusForm,
    InsightFilterForm,
)
from diagnosis.models import Incident, Ticket
from diagnosis.tickets import satisfaction

insight_required = permissions.role_required(permissions.can_view_insight)
incidents_required = permissions.role_required(permissions.can_manage_incidents)

FILTER_PARAMS = ("date_from", "date_to", "acquirer", "bucket")

CHARTS = {
    "over_time": (gettext_lazy("拒绝工单数量随时间变化"), gettext_lazy("时间")),
    "codes": (gettext_lazy("按应答码"), gettext_lazy("应答码")),
    "categories": (gettext_lazy("按拒绝原因分类"), gettext_lazy("分类")),
    "acquirers": (gettext_lazy("按收单行"), gettext_lazy("收单行")),
    "terminal_models": (gettext_lazy("按终端型号"), gettext_lazy("终端型号")),
    "wizard": (gettext_lazy("自助解决率（按向导结论）"), gettext_lazy("向导结论")),
}


def _filter_query(request) -> str:
    query = request.GET.copy()
    for key in list(query):
        if key not in FILTER_PARAMS:
            del query[key]
    return query.urlencode()


def _charts(data, query) -> list[dict]:
    charts = []
    for key, (title, dimension) in CHARTS.items():
        rows = data[key]
        if key == "over_time":
            geometry = svg.columns(rows)
        elif key == "wizard":
            geometry = svg.bars(rows, unit="%")
        else:
            geometry = svg.bars(rows)
        csv_url = reverse("diagnosis:insight_csv", args=[key])
        charts.append(
            {
                "key": key,
                "title": title,
                "dimension": dimension,
                "rows": rows,
                "svg": geometry,
                "empty": not rows if key == "wizard" else not any(r["value"] for r in rows),
                "csv_url": f"{csv_url}?{query}" if query else csv_url,
                "top": max((r["value"] for r in rows), default=0),
            }
        )
    return charts


@require_GET
@insight_required
@vary_on_headers("HX-Request")
def dashboard(request):
    form = InsightFilterForm(request.GET or None)
    filters = form.filters()
    data = aggregates.dashboard(filters)
    query = _filter_query(request)
    context = {
        "form": form,
        "filters": filters,
        "data": data,
        "charts": _charts(data, query),
        "query": query,
        # Satisfaction ratings per agent, category and bank (diagnosis/tickets/satisfaction.py).
        "satisfaction": satisfaction.dashboard_figures(filters),
    }
    template = "diagnosis/insight_dashboard.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    else:
        from diagnosis.escalations.turnaround import DAYS, bank_turnaround_cached

        context["turnaround"] = bank_turnaround_cached()
        context["turnaround_days"] = DAYS
        context["overdue_days"] = settings.ESCALATION_OVERDUE_WORKING_DAYS
    return render(request, template, context)


def _csv_safe(value):
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@require_GET
@insight_required
def insight_csv(request, chart):
    if chart not in CHARTS:
        raise Http404
    form = InsightFilterForm(request.GET or None)
    filters = form.filters()
    rows = aggregates.dashboard(filters)[chart]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="insight-{chart}-{filters.date_from}-{filters.date_to}.csv"'
    )
    response.write("\ufeff")  # Excel opens UTF-8 Chinese correctly with a BOM
    writer = csv.writer(response)
    if chart == "wizard":
        writer.writerow(["outcome", "label", "reached", "answered", "solved_yes", "rate_percent"])
        for r in rows:
            writer.writerow(
                [
                    _csv_safe(r["key"]),
                    _csv_safe(r["label"]),
                    r["reached"],
                    r["answered"],
                    r["yes"],
                    "" if r["rate"] is None else r["rate"],
                ]
            )
    else:
        writer.writerow(["key", "label", "tickets"])
        for r in rows:
            writer.writerow([_csv_safe(r["key"]), _csv_safe(r["label"]), r["value"]])
    return response


# --- incidents -----------------------------------------------------------------------------------


@require_GET
@incidents_required
def incident_list(request):
    form = IncidentFilterForm(request.GET or None)
    status = form.cleaned_data.get("status", "") if form.is_valid() else ""
    incidents = Incident.objects.select_related("acquirer").order_by("-started_at", "-pk")
    if status == "":
        incidents = incidents.active()
    elif status != "all":
        incidents = incidents.filter(status=status)
    page = Paginator(incidents, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "diagnosis/incident_list.html",
        {"form": form, "page": page, "incidents": page.object_list, "query": query.urlencode()},
    )


def _incident_or_404(pk):
    return get_object_or_404(Incident.objects.select_related("acquirer", "changed_by"), pk=pk)


def _detail_context(request, incident, **forms):
    page = keyset_page(
        incident.tickets.select_related("merchant", "assignee"),
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        per_page=50,
    )
    flagged = terminal_health.flagged_for_tickets(page.items)
    for ticket in page.items:
        ticket.faulty_terminal = terminal_health.is_flagged(ticket, flagged)
    statuses = services.incident_allowed_statuses(incident)
    return {
        "incident": incident,
        "tickets": page.items,
        "page": page,
        "ticket_count": incident.tickets.count(),
        "status_choices": [(s, Incident.Status(s).label) for s in statuses],
        "link_form": forms.get("link_form") or IncidentLinkForm(),
        "reply_form": forms.get("reply_form") or IncidentReplyForm(),
    }


@require_GET
@incidents_required
def incident_detail(request, pk):
    incident = _incident_or_404(pk)
    return render(request, "diagnosis/incident_detail.html", _detail_context(request, incident))


def _back(incident):
    return HttpResponseRedirect(reverse("diagnosis:incident_detail", args=[incident.pk]))


@require_POST
@incidents_required
def incident_status(request, pk):
    incident = _incident_or_404(pk)
    form = IncidentStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择有效的状态。"))
        return _back(incident)
    try:
        services.incident_set_status(
            incident=incident, actor=request.user, status=form.cleaned_data["status"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("事件状态已改为：%(status)s") % {"status": incident.get_status_display()}
        )
    return _back(incident)


@require_POST
@incidents_required
def incident_link(request, pk):
    incident = _incident_or_404(pk)
    form = IncidentLinkForm(request.POST)
    if not form.is_valid():
        context = _detail_context(request, incident, link_form=form)
        return render(request, "diagnosis/incident_detail.html", context, status=400)
    result = services.incident_link_tickets(
        incident=incident, actor=request.user, numbers=form.cleaned_data["numbers"]
    )
    if result["linked"]:
        count = len(result["linked"])
        messages.success(
            request,
            ngettext("已关联 %(count)d 张工单。", "已关联 %(count)d 张工单。", count)
            % {"count": count},
        )
    if result["missing"]:
        messages.error(
            request, _("找不到这些工单：%(numbers)s") % {"numbers": "、".join(result["missing"])}
        )
    if result["other_bank"]:
        messages.error(
            request,
            _("这些工单不属于这家收单行，没有关联：%(numbers)s")
            % {"numbers": "、".join(result["other_bank"])},
        )
    return _back(incident)


@require_POST
@incidents_required
def incident_unlink(request, pk, number):
    incident = _incident_or_404(pk)
    ticket = get_object_or_404(Ticket, number=number)
    services.incident_unlink_ticket(incident=incident, actor=request.user, ticket=ticket)
    messages.success(request, _("已取消关联 %(number)s。") % {"number": ticket.number})
    return _back(incident)


@require_POST
@incidents_required
def incident_reply(request, pk):
    incident = _incident_or_404(pk)
    form = IncidentReplyForm(request.POST)
    if form.is_valid():
        try:
            count = services.incident_reply_all(
                incident=incident, actor=request.user, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            form.add_error("body", " ".join(error.messages))
        else:
            messages.success(
                request,
                ngettext("已回复 %(count)d 张关联工单。", "已回复 %(count)d 张关联工单。", count)
                % {"count": count},
            )
            return _back(incident)
    context = _detail_context(request, incident, reply_form=form)
    return render(request, "diagnosis/incident_detail.html", context, status=400)

"""The content-gap page for knowledge editors, in the admin under 内容缺口 / Content gaps.

It is the change list of SearchQueryDay, replaced by the report (selectors.gap_report): top
searches without a result or a click, unknown codes, the wizard's "not solved" shares and the
least helpful articles, each row with links to the admin's add forms pre-filled; a date range
and a CSV export of the same rows.
"""

import csv
from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext

from diagnosis.core.admin import ReadOnlyAdminMixin
from diagnosis.core.cards import scrub_text
from diagnosis.escalations.exports import csv_guard
from knowledge.admin import EditorOnlyMixin
from knowledge.gaps import selectors, services
from knowledge.gaps.forms import GapRangeForm
from knowledge.models import SearchQueryDay


def _add_url(model: str, **initial) -> str:
    return f"{reverse(f'admin:knowledge_{model}_add')}?{urlencode(initial)}"


def _links(report):
    """Pre-filled "create an article / add a synonym / add the code" links on every row."""
    synonym_add = _synonym_add_url()
    for row in report.searches:
        suffix = "en" if row["lang"] == "en" else "zh"
        row["article_url"] = _add_url(
            "article", **{f"title_{suffix}": row["query"], f"keywords_{suffix}": row["query"]}
        )
        row["synonym_url"] = (
            f"{synonym_add}?{urlencode({'phrases': row['query'], 'lang': row['lang']})}"
            if synonym_add
            else ""
        )
    for row in report.codes:
        row["code_url"] = _add_url("responsecode", code=row["code"])
        row["article_url"] = _add_url("article", keywords_zh=row["code"], keywords_en=row["code"])
    for row in report.outcomes:
        row["article_url"] = _add_url("article", title_zh=row["title"], title_en=row["title"])
    for row in report.articles:
        row["change_url"] = reverse("admin:knowledge_article_change", args=[row["pk"]])
    return report


class _GuardedWriter:
    """Text cells a spreadsheet would run as a formula get a leading apostrophe."""

    def __init__(self, writer):
        self.writer = writer

    def writerow(self, cells):
        return self.writer.writerow([csv_guard(c) if isinstance(c, str) else c for c in cells])


def _synonym_add_url() -> str:
    return reverse("admin:knowledge_synonymgroup_add")


@admin.register(SearchQueryDay)
class ContentGapAdmin(ReadOnlyAdminMixin, EditorOnlyMixin, admin.ModelAdmin):
    list_display = ("day", "lang", "query", "searches", "empty", "opened")

    def get_urls(self):
        own = [
            path(
                "export.csv",
                self.admin_site.admin_view(self.export_view),
                name="knowledge_searchqueryday_export",
            )
        ]
        return own + super().get_urls()

    def _report(self, request):
        today = services.today()
        start, end = selectors.default_range(today)
        form = GapRangeForm(request.GET or None, initial={"start": start, "end": end})
        if form.is_bound and form.is_valid():
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        services.flush()  # what this process counted so far, so the page is up to date
        return form, _links(selectors.cached_gap_report(start=start, end=end))

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        form, report = self._report(request)
        query = urlencode({"start": report.start.isoformat(), "end": report.end.isoformat()})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("内容缺口"),
            "form": form,
            "report": report,
            "export_url": f"{reverse('admin:knowledge_searchqueryday_export')}?{query}",
        }
        return TemplateResponse(request, "admin/knowledge/content_gaps.html", context)

    def export_view(self, request):
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        _form, report = self._report(request)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        name = f"content-gaps-{report.start:%Y%m%d}-{report.end:%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response.write("\ufeff")  # Excel opens UTF-8 with a BOM
        writer = _GuardedWriter(csv.writer(response))
        writer.writerow(["section", "key", "label", "count", "no_result_or_not_solved", "opened"])
        for row in report.searches:
            writer.writerow(
                ["search", row["lang"], row["query"], row["searches"], row["empty"], row["opened"]]
            )
        for row in report.codes:
            writer.writerow(["unknown_code", row["code"], "", row["count"], "", ""])
        for row in report.outcomes:
            writer.writerow(
                [
                    "wizard_outcome",
                    row["outcome"],
                    row["title"],
                    row["reached"],
                    row["not_solved"],
                    "",
                ]
            )
        for row in report.questions:
            writer.writerow(
                [
                    "wizard_question",
                    row["question"],
                    row["text"],
                    row["reached"],
                    row["not_solved"],
                    "",
                ]
            )
        for row in report.articles:
            writer.writerow(
                [
                    "article_not_helpful",
                    row["slug"],
                    row["title_zh"],
                    row["not_helpful"],
                    "",
                    " / ".join(row["comments"]),
                ]
            )
        # Everything in it is stored scrubbed already; the export is scrubbed once more anyway.
        response.content = scrub_text(response.content.decode("utf-8")).encode("utf-8")
        return response

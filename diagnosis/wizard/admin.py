"""Admin for the wizard: editors change the draft, check and publish it, and read run statistics.

Imported from diagnosis/admin.py. The draft (questions with their options, outcomes with their
causes and articles, code routes) is edited freely; merchants only see it once "Check and
publish" has validated it and stored an immutable version.
"""

import datetime as dt

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from diagnosis.core import permissions
from diagnosis.core.admin import ReadOnlyAdminMixin
from diagnosis.models import (
    WizardCause,
    WizardCodeRoute,
    WizardOption,
    WizardOutcome,
    WizardOutcomeArticle,
    WizardQuestion,
    WizardRun,
    WizardVersion,
)
from diagnosis.wizard import runs
from diagnosis.wizard.engine import text
from diagnosis.wizard.snapshot import (
    PublishRefused,
    diff_trees,
    draft_snapshot,
    latest_version,
    live_tree,
    publish_draft,
)
from diagnosis.wizard.validation import validate_against_db

CHANGE_LIST = "diagnosis/wizard_admin_change_list.html"
STATS_PERIODS = {"7": 7, "30": 30, "90": 90, "365": 365, "all": None}


class WizardDraftMixin:
    change_list_template = CHANGE_LIST

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), **wizard_tool_links(request)}
        return super().changelist_view(request, extra_context)


def wizard_tool_links(request) -> dict:
    return {
        "wizard_can_publish": permissions.can_publish_wizard(request.user),
        "wizard_can_preview": permissions.can_preview_wizard(request.user),
        "wizard_can_stats": permissions.can_view_wizard_stats(request.user),
    }


class WizardOptionInline(admin.TabularInline):
    model = WizardOption
    fk_name = "question"
    extra = 1
    fields = ("position", "key", "label_zh", "label_en", "next_question", "outcome")
    autocomplete_fields = ("next_question", "outcome")
    ordering = ("position", "pk")


@admin.register(WizardQuestion)
class WizardQuestionAdmin(WizardDraftMixin, admin.ModelAdmin):
    list_display = ("key", "text_zh", "kind", "is_start", "option_count", "position", "updated_at")
    list_display_links = ("key", "text_zh")
    list_filter = ("kind", "is_start")
    search_fields = ("key", "text_zh", "text_en")
    ordering = ("position", "key")
    inlines = [WizardOptionInline]
    fieldsets = (
        (None, {"fields": ("key", "kind", "is_start", "position")}),
        (_("问题"), {"fields": ("text_zh", "text_en", "help_zh", "help_en")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(num_options=Count("options"))

    @admin.display(description=_("选项数"), ordering="num_options")
    def option_count(self, obj):
        return obj.num_options


class WizardCauseInline(admin.TabularInline):
    model = WizardCause
    extra = 1
    fields = ("position", "text_zh", "text_en")
    ordering = ("position", "pk")


class WizardOutcomeArticleInline(admin.TabularInline):
    model = WizardOutcomeArticle
    extra = 1
    fields = ("position", "article")
    ordering = ("position", "pk")
    autocomplete_fields = ("article",)  # the knowledge base can hold thousands of articles


@admin.register(WizardOutcome)
class WizardOutcomeAdmin(WizardDraftMixin, admin.ModelAdmin):
    list_display = (
        "key", "title_zh", "category", "who_acts", "retry", "bank_side", "position", "updated_at",
    )  # fmt: skip
    list_display_links = ("key", "title_zh")
    list_filter = ("category", "who_acts", "retry", "bank_side")
    list_select_related = ("category",)
    search_fields = ("key", "title_zh", "title_en")
    ordering = ("position", "key")
    inlines = [WizardCauseInline, WizardOutcomeArticleInline]
    fieldsets = (
        (None, {"fields": ("key", "category", "bank_side", "position")}),
        (_("内容"), {"fields": ("title_zh", "title_en", "summary_zh", "summary_en")}),
        (
            _("由谁处理、能否重试（必填，结论页照这里显示）"),
            {
                "fields": (
                    ("who_acts", "retry"),
                    "who_acts_note_zh",
                    "who_acts_note_en",
                    "retry_advice_zh",
                    "retry_advice_en",
                )
            },
        ),
        (_("分类例外"), {"classes": ("collapse",), "fields": ("category_exceptions",)}),
    )


@admin.register(WizardCodeRoute)
class WizardCodeRouteAdmin(WizardDraftMixin, admin.ModelAdmin):
    list_display = ("code", "next_question", "outcome")
    list_select_related = ("next_question", "outcome")
    search_fields = ("code", "outcome__key", "next_question__key")
    list_filter = ("outcome__category",)
    autocomplete_fields = ("next_question", "outcome")
    ordering = ("code",)


@admin.register(WizardVersion)
class WizardVersionAdmin(ReadOnlyAdminMixin, WizardDraftMixin, admin.ModelAdmin):
    """Published versions are read-only; "Check and publish" creates the next one."""

    list_display = ("number", "published_at", "published_by", "note", "size")
    list_select_related = ("published_by",)
    readonly_fields = ("number", "published_at", "published_by", "note", "size")
    exclude = ("snapshot",)

    @admin.display(description=_("问题 / 结论 / 应答码"))
    def size(self, obj):
        snapshot = obj.snapshot or {}
        return (
            f"{len(snapshot.get('questions', []))} / {len(snapshot.get('outcomes', []))} / "
            f"{len(snapshot.get('code_routes', {}))}"
        )

    def get_urls(self):
        return [
            path(
                "publish/",
                self.admin_site.admin_view(self.publish_view),
                name="diagnosis_wizardversion_publish",
            ),
            *super().get_urls(),
        ]

    def publish_view(self, request):
        if not permissions.can_publish_wizard(request.user):
            raise PermissionDenied
        problems = None
        if request.method == "POST":
            try:
                version = publish_draft(user=request.user, note=request.POST.get("note", ""))
            except PublishRefused as refused:
                problems = refused.problems
                self.message_user(request, _("没有发布：请先解决下面列出的问题。"), messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("已发布第 %(number)s 版，商户现在看到的就是这一版。")
                    % {"number": version.number},
                    messages.SUCCESS,
                )
                return redirect("admin:diagnosis_wizardversion_changelist")
        snapshot = draft_snapshot()
        if problems is None:
            problems = validate_against_db(snapshot)
        latest = latest_version()
        context = {
            **self.admin_site.each_context(request),
            **wizard_tool_links(request),
            "opts": self.model._meta,
            "title": _("检查并发布向导草稿"),
            "problems": problems,
            "diff": diff_trees(latest.snapshot if latest else None, snapshot),
            "latest": latest,
            "counts": {
                "questions": len(snapshot["questions"]),
                "outcomes": len(snapshot["outcomes"]),
                "code_routes": len(snapshot["code_routes"]),
            },
            "note": request.POST.get("note", ""),
        }
        return TemplateResponse(request, "diagnosis/wizard_admin_publish.html", context)


@admin.register(WizardRun)
class WizardRunAdmin(ReadOnlyAdminMixin, WizardDraftMixin, admin.ModelAdmin):
    """Anonymous runs: read-only list, and per-outcome statistics at stats/."""

    list_display = ("created_at", "version", "outcome", "code", "solved", "bank_lead", "path")
    list_filter = ("solved", "bank_lead", "version")
    list_select_related = ("version",)
    search_fields = ("outcome", "code", "path")
    date_hierarchy = "created_at"
    show_full_result_count = False
    delete_permission = "superusers"

    def get_urls(self):
        return [
            path(
                "stats/",
                self.admin_site.admin_view(self.stats_view),
                name="diagnosis_wizardrun_stats",
            ),
            *super().get_urls(),
        ]

    def stats_view(self, request):
        if not permissions.can_view_wizard_stats(request.user):
            raise PermissionDenied
        period = request.GET.get("period", "30")
        if period not in STATS_PERIODS:
            period = "30"
        days = STATS_PERIODS[period]
        since = timezone.now() - dt.timedelta(days=days) if days else None
        version = request.GET.get("version", "")
        version_number = int(version) if version.isdigit() else None
        rows = runs.outcome_stats(since=since, version_number=version_number)
        tree = live_tree()
        for row in rows:
            outcome = tree.outcomes.get(row["outcome"]) if tree else None
            row["title"] = text(outcome.get("title")) if outcome else ""
            row["category"] = tree.category_name(outcome.get("category")) if outcome else ""
            row["rate_percent"] = round(row["rate"] * 100) if row["rate"] is not None else None
        totals = {key: sum(r[key] for r in rows) for key in ("reached", "yes", "no", "unanswered")}
        voted = totals["yes"] + totals["no"]
        totals["rate_percent"] = round(totals["yes"] * 100 / voted) if voted else None
        context = {
            **self.admin_site.each_context(request),
            **wizard_tool_links(request),
            "opts": self.model._meta,
            "title": _("向导统计：每个结论的到达次数和解决率"),
            "rows": rows,
            "totals": totals,
            "period": period,
            "periods": [
                ("7", _("最近 7 天")),
                ("30", _("最近 30 天")),
                ("90", _("最近 90 天")),
                ("365", _("最近一年")),
                ("all", _("全部")),
            ],
            "version": version_number,
            "versions": list(
                WizardVersion.objects.order_by("-number").values_list("number", flat=True)[:50]
            ),
            "changelist_url": reverse("admin:diagnosis_wizardrun_changelist"),
        }
        return TemplateResponse(request, "diagnosis/wizard_admin_stats.html", context)

"""The knowledge admin: codes, articles (with revisions and preview), categories, announcements.

Only knowledge editors (staff in the "Knowledge editors" group) and superusers get in: every
permission check below also asks diagnosis.core.permissions.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from diagnosis.core import permissions
from diagnosis.core.admin import ReadOnlyAdminMixin
from diagnosis.core.cards import scrub_text
from knowledge import publishing, services
from knowledge.diffing import side_by_side
from knowledge.loading import article_snapshot
from knowledge.models import (
    Announcement,
    Article,
    ArticleChange,
    ArticleRevision,
    ArticleVote,
    Category,
    ResponseCode,
    SynonymGroup,
)


class EditorOnlyMixin:
    """Model permissions as usual, and the user must be a knowledge editor (or superuser)."""

    def has_module_permission(self, request):
        return permissions.can_edit_knowledge(request.user) and super().has_module_permission(
            request
        )

    def has_view_permission(self, request, obj=None):
        return permissions.can_edit_knowledge(request.user) and super().has_view_permission(
            request, obj
        )

    def has_add_permission(self, request, *args):
        return permissions.can_edit_knowledge(request.user) and super().has_add_permission(
            request, *args
        )

    def has_change_permission(self, request, obj=None):
        return permissions.can_edit_knowledge(request.user) and super().has_change_permission(
            request, obj
        )

    def has_delete_permission(self, request, obj=None):
        if obj is not None and getattr(obj, "source_hash", ""):
            # Loaded from knowledge/content: the loader would bring it back. Unpublish instead.
            return False
        return permissions.can_edit_knowledge(request.user) and super().has_delete_permission(
            request, obj
        )


REVIEW_FIELDSET = (
    _("复核"),
    {"fields": (("owner", "review_by"), "last_verified")},
)


class ReviewAdminMixin:
    """Owner, "review by" date and the last check on the form; "mark as verified" as an action
    (knowledge/review.py)."""

    @admin.display(description=_("最近核实"))
    def last_verified(self, obj):
        if obj is None or obj.verified_at is None:
            return gettext("还没有核实过")
        who = obj.verified_by.get_username() if obj.verified_by else "—"
        return f"{timezone.localtime(obj.verified_at):%Y-%m-%d %H:%M} · {who}"

    @admin.display(description=_("复核期限"), ordering="review_by")
    def review_due(self, obj):
        if obj.review_by is None:
            return "—"
        if obj.review_overdue:
            return format_html('<strong class="overdue">{} ⚠</strong>', obj.review_by)
        return obj.review_by

    @admin.action(description=_("标记为已核实（今天检查过）"), permissions=["change"])
    def mark_verified(self, request, queryset):
        from knowledge import review

        for obj in queryset.select_related("category"):
            review.content_verify(obj=obj, user=request.user)
        self.message_user(request, gettext("已标记为核实。"), messages.SUCCESS)


def preview_links(url_name, *args):
    links = []
    for code, label in (("zh-hans", "中文"), ("en", "English")):
        with translation.override(code):
            links.append((reverse(url_name, args=args), label))
    return format_html_join(" · ", '<a href="{}" target="_blank" rel="noopener">{}</a>', links)


# --- categories ------------------------------------------------------------------------------
@admin.register(Category)
class CategoryAdmin(EditorOnlyMixin, admin.ModelAdmin):
    list_display = ("key", "name_zh", "name_en", "position", "is_decline", "articles", "codes")
    list_editable = ("position",)
    list_filter = ("is_decline",)
    search_fields = ("key", "name_zh", "name_en")
    readonly_fields = ("preview",)
    fieldsets = (
        (None, {"fields": ("key", "position", "is_decline", "preview")}),
        (_("中文"), {"fields": ("name_zh", "description_zh")}),
        ("English", {"fields": ("name_en", "description_en")}),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                article_total=Count("articles", distinct=True),
                code_total=Count("codes", distinct=True),
            )
        )

    def get_readonly_fields(self, request, obj=None):
        # The key is part of the API and of URLs: fixed once created.
        return ("key", "preview") if obj else ("preview",)

    @admin.display(description=_("文章数"), ordering="article_total")
    def articles(self, obj):
        return obj.article_total

    @admin.display(description=_("应答码数"), ordering="code_total")
    def codes(self, obj):
        return obj.code_total

    @admin.display(description=_("预览"))
    def preview(self, obj):
        if not obj or not obj.pk:
            return "—"
        return preview_links("knowledge:category_detail", obj.key)


# --- response codes --------------------------------------------------------------------------
@admin.register(ResponseCode)
class ResponseCodeAdmin(ReviewAdminMixin, EditorOnlyMixin, admin.ModelAdmin):
    list_display = (
        "code",
        "meaning_zh",
        "meaning_en",
        "category",
        "who_acts",
        "retry",
        "lookups",
        "review_due",
    )
    actions = ("mark_verified",)
    list_filter = ("category", "who_acts", "retry", "vague")
    list_select_related = ("category",)
    search_fields = ("code", "meaning_zh", "meaning_en", "keywords_zh", "keywords_en")
    readonly_fields = ("lookups", "updated_at", "preview", "linked_articles", "last_verified")
    ordering = ("code",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("code", "category"),
                    ("who_acts", "retry", "vague"),
                    ("lookups", "updated_at"),
                    "preview",
                    "linked_articles",
                )
            },
        ),
        (
            _("中文"),
            {
                "fields": (
                    "meaning_zh",
                    "explanation_zh",
                    "say_to_customer_zh",
                    "merchant_steps_zh",
                    "retry_advice_zh",
                    "keywords_zh",
                )
            },
        ),
        (
            "English",
            {
                "fields": (
                    "meaning_en",
                    "explanation_en",
                    "say_to_customer_en",
                    "merchant_steps_en",
                    "retry_advice_en",
                    "keywords_en",
                )
            },
        ),
        REVIEW_FIELDSET,
    )

    @admin.display(description=_("预览"))
    def preview(self, obj):
        if not obj or not obj.pk:
            return "—"
        return preview_links("knowledge:code_detail", obj.code)

    @admin.display(description=_("讲到这个应答码的文章"))
    def linked_articles(self, obj):
        if not obj or not obj.pk:
            return "—"
        rows = [
            (
                reverse("admin:knowledge_article_change", args=[a.pk]),
                a.title_zh,
                a.get_status_display(),
            )
            for a in obj.articles.order_by("slug")
        ]
        if not rows:
            return gettext("还没有文章（在文章里选择这个应答码即可关联）。")
        return format_html_join(mark_safe("<br>"), '<a href="{}">{}</a> ({})', rows)


# --- articles --------------------------------------------------------------------------------
class ArticleVoteInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ArticleVote
    extra = 0
    can_delete = False
    fields = ("created_at", "helpful", "comment")
    readonly_fields = fields
    ordering = ("-created_at",)
    verbose_name_plural = _("读者反馈")

    def has_view_permission(self, request, obj=None):
        return permissions.can_edit_knowledge(request.user)

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(comment="")


@admin.register(Article)
class ArticleAdmin(ReviewAdminMixin, EditorOnlyMixin, admin.ModelAdmin):
    list_display = (
        "title_zh",
        "slug",
        "category",
        "status",
        "code_list",
        "helpful",
        "updated_at",
        "review_due",
        "preview",
    )
    list_filter = ("status", "category", "updated_at")
    list_select_related = ("category",)
    search_fields = (
        "slug",
        "title_zh",
        "title_en",
        "keywords_zh",
        "keywords_en",
        "codes__code",
    )
    autocomplete_fields = ("codes", "related")
    readonly_fields = (
        "preview",
        "helpful",
        "created_at",
        "updated_at",
        "recent_revisions",
        "review_changes",
        "last_verified",
    )
    actions = ("publish", "submit_for_review", "unpublish", "mark_verified")
    inlines = [ArticleVoteInline]
    save_on_top = True
    change_list_template = "admin/knowledge/article/change_list.html"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("slug", "category", "status"),
                    "codes",
                    "related",
                    "preview",
                )
            },
        ),
        (
            _("中文"),
            {
                "fields": (
                    "title_zh",
                    "summary_zh",
                    "symptoms_zh",
                    "cause_zh",
                    "merchant_steps_zh",
                    "customer_script_zh",
                    "cardholder_steps_zh",
                    "prevention_zh",
                    "keywords_zh",
                )
            },
        ),
        (
            "English",
            {
                "fields": (
                    "title_en",
                    "summary_en",
                    "symptoms_en",
                    "cause_en",
                    "merchant_steps_en",
                    "customer_script_en",
                    "cardholder_steps_en",
                    "prevention_en",
                    "keywords_en",
                )
            },
        ),
        (
            _("反馈与修订"),
            {
                "fields": (
                    "helpful",
                    ("created_at", "updated_at"),
                    "recent_revisions",
                    "review_changes",
                )
            },
        ),
        REVIEW_FIELDSET,
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("codes")

    @admin.display(description=_("应答码"))
    def code_list(self, obj):
        return ", ".join(code.code for code in obj.codes.all()) or "—"

    @admin.display(description=_("有帮助 / 没帮助"))
    def helpful(self, obj):
        return f"{obj.helpful_yes} / {obj.helpful_no}"

    @admin.display(description=_("预览"))
    def preview(self, obj):
        if not obj or not obj.pk:
            return "—"
        return preview_links("knowledge:article_detail", obj.slug)

    @admin.display(description=_("最近修订"))
    def recent_revisions(self, obj):
        if not obj or not obj.pk:
            return "—"
        revisions = obj.revisions.select_related("author")[:5]
        rows = [
            (
                timezone.localtime(r.created_at).strftime("%Y-%m-%d %H:%M"),
                r.author or gettext("内容导入"),
                ", ".join(field_label(f) for f in r.changed_fields) or gettext("无改动"),
            )
            for r in revisions
        ]
        history = reverse("admin:knowledge_article_revisions", args=[obj.pk])
        return format_html(
            "{}<p><a href='{}'>{}</a></p>",
            format_html_join(mark_safe("<br>"), "{} · {} · {}", rows),
            history,
            gettext("查看全部修订并恢复"),
        )

    # --- review before publish (knowledge/publishing.py) ----------------------------------
    def has_publish_permission(self, request, obj=None):
        # (An action's permissions are alternatives: this one includes "change".)
        return permissions.can_publish_articles(request.user) and self.has_change_permission(
            request, obj
        )

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if not self.has_publish_permission(request):
            return (*fields, "status")  # drafts only; publishing goes through a review
        return fields

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra = {
            "can_publish": self.has_publish_permission(request),
            "submit_label": gettext("提交复审"),
        }
        return super().changeform_view(
            request, object_id, form_url, {**extra, **(extra_context or {})}
        )

    def save_model(self, request, obj, form, change):
        previous = None
        if change and obj.pk:
            previous = Article.objects.select_related("category").get(pk=obj.pk)
            obj._revision_before = article_snapshot(previous)
        if not self.has_publish_permission(request) and previous and previous.is_published:
            # A published article changes only once a second editor approves: keep the form's
            # content as a proposal and leave the article (and the public page) as it is.
            obj._submitted = publishing.article_change_submit(
                article=previous, proposed=article_snapshot_of_form(obj, form), author=request.user
            )
            obj._held = True
            # Owner and "review by" date are not on the public page: they change at once.
            Article.objects.filter(pk=obj.pk).update(owner=obj.owner, review_by=obj.review_by)
            obj.refresh_from_db()
            return
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        article = form.instance
        if getattr(article, "_held", False):
            return
        super().save_related(request, form, formsets, change)
        before = getattr(article, "_revision_before", {})
        after = article_snapshot(article)
        changed = sorted(k for k in after if before.get(k) != after[k])
        services.article_revision_create(
            article=article, author=request.user, changed_fields=changed
        )
        if "_submit_review" in request.POST and not article.is_published:
            # A draft submitted for review: the proposal is the draft, published.
            proposed = {**after, "status": Article.Status.PUBLISHED}
            article._submitted = publishing.article_change_submit(
                article=article, proposed=proposed, author=request.user
            )

    def construct_change_message(self, request, form, formsets, add=False):
        if getattr(form.instance, "_held", False):
            return []  # nothing was saved (the inlines neither)
        return super().construct_change_message(request, form, formsets, add)

    def log_change(self, request, obj, message):
        if getattr(obj, "_held", False):
            return None  # nothing changed yet: the submission is in the audit trail
        return super().log_change(request, obj, message)

    def response_change(self, request, obj):
        if getattr(obj, "_held", False) or hasattr(obj, "_submitted"):
            self._submitted_message(request, getattr(obj, "_submitted", None))
            return HttpResponseRedirect(reverse("admin:knowledge_article_change", args=[obj.pk]))
        return super().response_change(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        if hasattr(obj, "_submitted"):
            self._submitted_message(request, getattr(obj, "_submitted", None))
            return HttpResponseRedirect(reverse("admin:knowledge_article_change", args=[obj.pk]))
        return super().response_add(request, obj, post_url_continue)

    def _submitted_message(self, request, submitted):
        if submitted is None:
            self.message_user(request, gettext("没有改动，没有提交。"), messages.WARNING)
        else:
            self.message_user(
                request,
                gettext("修改已提交复审：另一位编辑批准后才会发布，公开页面暂时不变。"),
                messages.SUCCESS,
            )

    @admin.display(description=_("复审"))
    def review_changes(self, obj):
        if not obj or not obj.pk:
            return "—"
        changes = list(
            obj.changes.select_related("author", "reviewer").order_by("-submitted_at", "-pk")[:5]
        )
        if not changes:
            return gettext("没有提交过复审的修改。")
        rows = [
            (
                reverse("admin:knowledge_article_change_review", args=[c.pk]),
                timezone.localtime(c.submitted_at).strftime("%Y-%m-%d %H:%M"),
                c.get_state_display(),
                c.author or "—",
                f" · {c.reviewer}: {c.comment}" if c.comment else "",
            )
            for c in changes
        ]
        return format_html_join(mark_safe("<br>"), '<a href="{}">{} · {}</a> · {}{}', rows)

    @admin.action(description=_("发布所选文章"), permissions=["publish"])
    def publish(self, request, queryset):
        self._set_status(request, queryset, Article.Status.PUBLISHED)

    @admin.action(description=_("把所选草稿提交复审（批准后发布）"), permissions=["change"])
    def submit_for_review(self, request, queryset):
        count = 0
        for article in queryset.exclude(status=Article.Status.PUBLISHED).select_related("category"):
            proposed = {**article_snapshot(article), "status": Article.Status.PUBLISHED}
            if publishing.article_change_submit(
                article=article, proposed=proposed, author=request.user
            ):
                count += 1
        self.message_user(request, gettext("已提交复审：%(count)d 篇。") % {"count": count})

    @admin.action(description=_("把所选文章改回草稿"), permissions=["change"])
    def unpublish(self, request, queryset):
        self._set_status(request, queryset, Article.Status.DRAFT)

    def _set_status(self, request, queryset, status):
        count = 0
        for article in queryset.exclude(status=status):
            article.status = status
            article.save(update_fields=["status", "updated_at"])
            services.article_revision_create(
                article=article, author=request.user, changed_fields=["status"]
            )
            count += 1
        self.message_user(request, gettext("已更新 %(count)d 篇文章。") % {"count": count})

    def changelist_view(self, request, extra_context=None):
        extra = {"pending_changes": ArticleChange.objects.pending().count()}
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    # --- history and restore views --------------------------------------------------------
    def get_urls(self):
        own = [
            path(
                "<path:object_id>/revisions/",
                self.admin_site.admin_view(self.revisions_view),
                name="knowledge_article_revisions",
            ),
            path(
                "<path:object_id>/revisions/<int:revision_id>/restore/",
                self.admin_site.admin_view(self.restore_view),
                name="knowledge_article_revision_restore",
            ),
            path(
                "changes/",
                self.admin_site.admin_view(self.pending_changes_view),
                name="knowledge_article_changes",
            ),
            path(
                "changes/<int:change_id>/",
                self.admin_site.admin_view(self.change_review_view),
                name="knowledge_article_change_review",
            ),
            path(
                "review-queue/",
                self.admin_site.admin_view(self.review_queue_view),
                name="knowledge_review_queue",
            ),
        ]
        return own + super().get_urls()

    def review_queue_view(self, request):
        """Articles and codes due for review, soonest first (overdue flagged); "verified" per
        row (POST). ?mine=1 shows only the signed-in editor's own."""
        from knowledge import review

        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            if not self.has_change_permission(request):
                raise PermissionDenied
            model = {"article": Article, "code": ResponseCode}.get(request.POST.get("kind"))
            obj = None
            if model is not None and str(request.POST.get("pk", "")).isdigit():
                obj = model.objects.select_related("category").filter(pk=request.POST["pk"]).first()
            if obj is None:
                raise Http404
            review.content_verify(obj=obj, user=request.user)
            self.message_user(
                request, gettext("已标记为核实：%(item)s") % {"item": str(obj)}, messages.SUCCESS
            )
            return HttpResponseRedirect(request.get_full_path())
        mine = request.GET.get("mine") == "1"
        rows = review.review_queue(owner=request.user if mine else None)
        for row in rows:
            name = "article" if row["kind"] == "article" else "responsecode"
            row["change_url"] = reverse(f"admin:knowledge_{name}_change", args=[row["obj"].pk])
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("复核队列"),
            "rows": rows,
            "mine": mine,
            "days": review.QUEUE_DAYS,
        }
        return TemplateResponse(request, "admin/knowledge/review_queue.html", context)

    def pending_changes_view(self, request):
        """Changes waiting for review, oldest first (keyset pages), and the signed-in editor's
        own changes that were sent back, with the comments."""
        from diagnosis.core.pagination import SortKey, keyset_page

        if not self.has_view_permission(request):
            raise PermissionDenied
        keys = (SortKey("submitted_at"), SortKey("pk", integer=True))
        page = keyset_page(
            publishing.pending_changes(),
            keys,
            after=request.GET.get("after", ""),
            before=request.GET.get("before", ""),
            per_page=50,
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("等待复审的修改"),
            "page": page,
            "sent_back": publishing.sent_back_to(request.user),
            "me": request.user.pk,
        }
        return TemplateResponse(request, "admin/knowledge/article/changes.html", context)

    def change_review_view(self, request, change_id):
        """One change: the published text beside the proposed one (both languages), and for a
        second editor the approve / send back forms."""
        from knowledge.forms import SendBackForm

        if not self.has_view_permission(request):
            raise PermissionDenied
        change = get_object_or_404(
            ArticleChange.objects.select_related("article__category", "author", "reviewer"),
            pk=change_id,
        )
        can_review = permissions.can_review_article_change(request.user, change)
        form = SendBackForm()
        if request.method == "POST":
            if request.POST.get("decision") == "withdraw":
                if not permissions.can_withdraw_article_change(request.user, change):
                    raise PermissionDenied
                publishing.article_change_withdraw(change=change, user=request.user)
                done = gettext("已撤回这条修改，文章没有改动。")
                self.message_user(request, done, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:knowledge_article_changes"))
            if not can_review:
                raise PermissionDenied
            if request.POST.get("decision") == "approve":
                publishing.article_change_approve(change=change, reviewer=request.user)
                self.message_user(request, gettext("已批准，修改已发布。"), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:knowledge_article_changes"))
            form = SendBackForm(request.POST)
            if form.is_valid():
                publishing.article_change_send_back(
                    change=change, reviewer=request.user, comment=form.cleaned_data["comment"]
                )
                self.message_user(request, gettext("已退回给作者。"), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:knowledge_article_changes"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": change.article,
            "change": change,
            "rows": publishing.change_diff(change, label=field_label),
            "can_review": can_review,
            "own": change.author_id == request.user.pk,
            "form": form,
            "title": gettext("复审修改：%(title)s") % {"title": change.article.title_zh},
        }
        return TemplateResponse(request, "admin/knowledge/article/change_review.html", context)

    def _article_or_404(self, request, object_id):
        article = self.get_object(request, object_id)
        if article is None:
            raise Http404
        if not self.has_view_permission(request, article):
            raise PermissionDenied
        return article

    def revisions_view(self, request, object_id):
        article = self._article_or_404(request, object_id)
        revisions = list(article.revisions.select_related("author"))
        rows = []
        for position, revision in enumerate(revisions):
            previous = revisions[position + 1].data if position + 1 < len(revisions) else {}
            rows.append(
                {
                    "revision": revision,
                    "changes": [
                        {
                            **change,
                            "label": field_label(change["field"]),
                            "sides": side_by_side(change["before"], change["after"]),
                        }
                        for change in services.revision_changes(revision, previous)
                    ],
                    "is_current": position == 0,
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": article,
            "title": gettext("修订历史：%(title)s") % {"title": article.title_zh},
            "rows": rows,
            "can_restore": permissions.can_restore_article_revisions(request.user)
            and self.has_change_permission(request, article),
        }
        return TemplateResponse(request, "admin/knowledge/article/revisions.html", context)

    def restore_view(self, request, object_id, revision_id):
        article = self._article_or_404(request, object_id)
        if not (
            permissions.can_restore_article_revisions(request.user)
            and self.has_change_permission(request, article)
        ):
            raise PermissionDenied
        revision = get_object_or_404(ArticleRevision, pk=revision_id, article=article)
        current = article_snapshot(article)
        differences = [
            {"label": field_label(name), "now": current.get(name, ""), "then": value}
            for name, value in revision.data.items()
            if current.get(name) != value
        ]
        if request.method == "POST" and not self.has_publish_permission(request):
            # Restoring is publishing too: without the permission it becomes a proposal.
            submitted = publishing.article_change_submit(
                article=article, proposed=revision.data, author=request.user
            )
            self._submitted_message(request, submitted)
            return HttpResponseRedirect(
                reverse("admin:knowledge_article_change", args=[article.pk])
            )
        if request.method == "POST":
            services.article_revision_restore(revision=revision, author=request.user)
            self.message_user(
                request,
                gettext("已恢复到 %(time)s 的版本。")
                % {"time": timezone.localtime(revision.created_at).strftime("%Y-%m-%d %H:%M")},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(
                reverse("admin:knowledge_article_change", args=[article.pk])
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": article,
            "revision": revision,
            "differences": differences,
            "title": gettext("恢复修订：%(title)s") % {"title": article.title_zh},
        }
        return TemplateResponse(request, "admin/knowledge/article/restore.html", context)


def article_snapshot_of_form(obj, form) -> dict:
    """The snapshot an admin form would save (the instance's new values, the chosen codes and
    related articles), without saving anything."""
    snapshot = article_snapshot(obj)
    data = getattr(form, "cleaned_data", {})
    if "codes" in data:
        snapshot["codes"] = sorted(c.code for c in data["codes"])
    if "related" in data:
        snapshot["related"] = sorted(a.slug for a in data["related"])
    return snapshot


def field_label(name: str) -> str:
    try:
        return str(Article._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001 - unknown names are shown as they are
        return name


@admin.register(ArticleRevision)
class ArticleRevisionAdmin(ReadOnlyAdminMixin, EditorOnlyMixin, admin.ModelAdmin):
    list_display = ("article", "created_at", "author", "changes")
    list_select_related = ("article", "author")
    list_filter = ("created_at",)
    search_fields = ("article__slug", "article__title_zh", "article__title_en")
    date_hierarchy = "created_at"
    readonly_fields = ("article", "author", "created_at", "changed_fields", "data", "restore")
    delete_permission = "superusers"

    @admin.display(description=_("修改的字段"))
    def changes(self, obj):
        return ", ".join(field_label(f) for f in obj.changed_fields) or "—"

    @admin.display(description=_("恢复"))
    def restore(self, obj):
        url = reverse("admin:knowledge_article_revision_restore", args=[obj.article_id, obj.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, gettext("恢复到这个版本"))


@admin.register(ArticleVote)
class ArticleVoteAdmin(ReadOnlyAdminMixin, EditorOnlyMixin, admin.ModelAdmin):
    list_display = ("article", "helpful", "comment", "created_at")
    list_filter = ("helpful", "created_at")
    list_select_related = ("article",)
    search_fields = ("article__slug", "article__title_zh", "comment")
    fields = ("article", "helpful", "comment", "created_at")
    readonly_fields = fields
    delete_permission = "usual"  # editors may delete a vote (spam)


# --- announcements ---------------------------------------------------------------------------
class AnnouncementStateFilter(admin.SimpleListFilter):
    title = _("状态")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("active", _("正在生效")), ("upcoming", _("即将开始")), ("past", _("已结束")))

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.active(now)
        if self.value() == "upcoming":
            return queryset.filter(starts_at__gt=now)
        if self.value() == "past":
            return queryset.filter(ends_at__lte=now)
        return queryset


@admin.register(Announcement)
class AnnouncementAdmin(EditorOnlyMixin, admin.ModelAdmin):
    list_display = ("title_zh", "bank", "bank_role", "severity", "starts_at", "ends_at", "state")
    list_filter = (AnnouncementStateFilter, "severity", "bank_role", "bank")
    list_select_related = ("bank",)
    search_fields = ("title_zh", "title_en", "body_zh", "body_en", "bank__name_zh")
    date_hierarchy = "starts_at"
    readonly_fields = ("preview", "created_at")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("bank", "bank_role"),
                    "severity",
                    ("starts_at", "ends_at"),
                    "preview",
                )
            },
        ),
        (_("中文"), {"fields": ("title_zh", "body_zh")}),
        ("English", {"fields": ("title_en", "body_en")}),
    )

    @admin.display(description=_("状态"))
    def state(self, obj):
        labels = {"active": _("正在生效"), "upcoming": _("即将开始"), "past": _("已结束")}
        return labels[obj.status()]

    @admin.display(description=_("预览"))
    def preview(self, obj):
        if not obj or not obj.pk:
            return "—"
        return preview_links("knowledge:announcement_detail", obj.pk)


# --- search synonyms -------------------------------------------------------------------------
@admin.register(SynonymGroup)
class SynonymGroupAdmin(EditorOnlyMixin, admin.ModelAdmin):
    """Synonym groups, with a test box on the list: how a query is analysed, what it finds."""

    list_display = ("key", "lang", "phrase_list", "updated_at")
    list_filter = ("lang",)
    search_fields = ("key", "phrases")
    fields = ("key", "lang", "phrases")
    change_list_template = "admin/knowledge/synonymgroup/change_list.html"

    @admin.display(description=_("同义说法"))
    def phrase_list(self, obj):
        return " / ".join(obj.phrases.splitlines())

    def get_changeform_initial_data(self, request):
        """From the content-gap page: ?phrases=<the query>&lang=zh — a new key, the query as the
        first phrase."""
        initial = super().get_changeform_initial_data(request)
        if "phrases" in initial and "key" not in initial:
            initial["key"] = f"{initial.get('lang') or 'zh'}-{timezone.now():%Y%m%d%H%M%S}"
        return initial

    def changelist_view(self, request, extra_context=None):
        from knowledge.search.tryout import query_tryout

        query = " ".join(request.GET.get("try", "").split())[:200]
        extra = {
            "try_query": scrub_text(query),
            "tryout": query_tryout(query=query, lang=translation.get_language()) if query else None,
        }
        if query:
            # The test box is not a list filter: take it out before the change list reads GET.
            request.GET = request.GET.copy()
            request.GET.pop("try", None)
        return super().changelist_view(request, {**(extra_context or {}), **extra})


# The content-gap page (knowledge/gaps/admin.py) registers itself when imported.
from knowledge.gaps import admin as _gaps_admin  # noqa: E402, F401

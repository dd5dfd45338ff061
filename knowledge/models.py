"""The knowledge base's records: categories (the taxonomy of knowledge/taxonomy.py), response
codes, cause articles with their revisions and readers' votes, bank announcements (maintenance
windows and outages), and the search vocabulary.

Every text exists in Chinese and English (`*_zh`, `*_en`; `BilingualMixin.tr()` picks the
active language). Rows loaded from knowledge/content/ keep `source_hash` (see
config/content_merge.py); articles and codes keep their search analysis in `search_terms`,
stored by knowledge/signals.py on every save. Reads go through knowledge/selectors.py, writes
with rules through knowledge/services.py.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import models
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext_lazy as _

from diagnosis.core.scrubbed_fields import (
    ScrubbedCharField,
    ScrubbedJSONField,
    ScrubbedTextField,
)
from knowledge.bilingual import BilingualMixin, clean_phrases, lines


class Category(BilingualMixin, models.Model):
    """The stable category taxonomy of PRODUCT.md (`funds_limits`, `card_status`, …)."""

    key = models.SlugField(_("键"), max_length=40, unique=True)
    name_zh = ScrubbedCharField(_("中文名称"), max_length=60)
    name_en = ScrubbedCharField(_("英文名称"), max_length=60)
    description_zh = ScrubbedTextField(_("中文说明"), blank=True)
    description_en = ScrubbedTextField(_("英文说明"), blank=True)
    position = models.PositiveSmallIntegerField(_("显示顺序"), default=0)
    is_decline = models.BooleanField(_("属于拒绝原因"), default=True)
    source_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["position", "key"]
        verbose_name = _("分类")
        verbose_name_plural = _("分类")

    def __str__(self):
        return f"{self.key} · {self.name_zh}"

    def get_absolute_url(self):
        return reverse("knowledge:category_detail", args=[self.key])

    @property
    def name(self):
        return self.tr("name")

    @property
    def description(self):
        return self.tr("description")


class Reviewed(models.Model):
    """Review on a schedule: an owner, a "review by" date (set from the category's interval when
    first published, knowledge/review.py), and who verified the content last and when."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("负责人"),
    )
    review_by = models.DateField(_("复核期限"), null=True, blank=True, db_index=True)
    verified_at = models.DateTimeField(_("最近核实时间"), null=True, blank=True, editable=False)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("核实人"),
    )

    class Meta:
        abstract = True

    @property
    def review_overdue(self) -> bool:
        return self.review_by is not None and self.review_by < timezone.localdate()


class ResponseCodeQuerySet(models.QuerySet):
    def most_looked_up(self, limit=12):
        return self.filter(category__is_decline=True).order_by("-lookups", "code")[:limit]


class ResponseCode(BilingualMixin, Reviewed):
    class WhoActs(models.TextChoices):
        CARDHOLDER = "cardholder", _("持卡人")
        MERCHANT = "merchant", _("商户")
        ACQUIRER = "acquirer", _("收单机构")
        ISSUER = "issuer", _("发卡行")

    class Retry(models.TextChoices):
        YES = "yes", _("可以重试")
        NO = "no", _("不要重试")
        LATER = "later", _("稍后重试")
        AFTER_FIX = "after_fix", _("解决问题后再试")
        # The result is unknown (timeouts, duplicates): a retry can charge the customer twice.
        CHECK_FIRST = "check_first", _("先查上一笔，再决定")

    code = models.CharField(_("应答码"), max_length=2, unique=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="codes", verbose_name=_("分类")
    )
    who_acts = models.CharField(_("由谁处理"), max_length=12, choices=WhoActs.choices)
    retry = models.CharField(_("能否重试"), max_length=12, choices=Retry.choices)
    vague = models.BooleanField(_("含义笼统"), default=False)
    meaning_zh = ScrubbedCharField(_("中文含义"), max_length=120)
    meaning_en = ScrubbedCharField(_("英文含义"), max_length=160)
    explanation_zh = ScrubbedTextField(_("中文解释"))
    explanation_en = ScrubbedTextField(_("英文解释"))
    say_to_customer_zh = ScrubbedTextField(_("对顾客说（中文）"), blank=True)
    say_to_customer_en = ScrubbedTextField(_("对顾客说（英文）"), blank=True)
    merchant_steps_zh = ScrubbedTextField(_("商户步骤（中文，每行一步）"), blank=True)
    merchant_steps_en = ScrubbedTextField(_("商户步骤（英文，每行一步）"), blank=True)
    retry_advice_zh = ScrubbedTextField(_("重试建议（中文）"), blank=True)
    retry_advice_en = ScrubbedTextField(_("重试建议（英文）"), blank=True)
    keywords_zh = ScrubbedTextField(_("中文关键词（每行一个）"), blank=True)
    keywords_en = ScrubbedTextField(_("英文关键词（每行一个）"), blank=True)
    lookups = models.PositiveIntegerField(_("查询次数"), default=0, editable=False)
    source_hash = models.CharField(max_length=64, blank=True, editable=False)
    # What the code puts into the search index, stored on every save (knowledge.signals).
    search_terms = models.BinaryField(null=True, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ResponseCodeQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("应答码")
        verbose_name_plural = _("应答码")

    def __str__(self):
        return f"{self.code} · {self.meaning_zh}"

    def save(self, *args, **kwargs):
        self.code = (self.code or "").strip().upper()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("knowledge:code_detail", args=[self.code])

    @property
    def meaning(self):
        return self.tr("meaning")

    @property
    def merchant_steps(self):
        return lines(self.tr("merchant_steps"))

    @property
    def explanation(self):
        return self.tr("explanation")

    @property
    def say_to_customer(self):
        return self.tr("say_to_customer")

    @property
    def retry_advice(self):
        return self.tr("retry_advice")


class ArticleQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Article.Status.PUBLISHED)


class Article(BilingualMixin, Reviewed):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")

    slug = models.SlugField(_("网址名"), max_length=80, unique=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="articles", verbose_name=_("分类")
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    codes = models.ManyToManyField(
        ResponseCode, blank=True, related_name="articles", verbose_name=_("相关应答码")
    )
    related = models.ManyToManyField(
        "self", blank=True, symmetrical=False, verbose_name=_("相关文章")
    )
    title_zh = ScrubbedCharField(_("中文标题"), max_length=160)
    title_en = ScrubbedCharField(_("英文标题"), max_length=200)
    summary_zh = ScrubbedTextField(_("中文摘要"))
    summary_en = ScrubbedTextField(_("英文摘要"))
    symptoms_zh = ScrubbedTextField(_("现象（中文，Markdown）"), blank=True)
    symptoms_en = ScrubbedTextField(_("现象（英文，Markdown）"), blank=True)
    cause_zh = ScrubbedTextField(_("原因（中文，Markdown）"), blank=True)
    cause_en = ScrubbedTextField(_("原因（英文，Markdown）"), blank=True)
    merchant_steps_zh = ScrubbedTextField(_("商户现在怎么做（中文，每行一步）"), blank=True)
    merchant_steps_en = ScrubbedTextField(_("商户现在怎么做（英文，每行一步）"), blank=True)
    customer_script_zh = ScrubbedTextField(_("对顾客说（中文）"), blank=True)
    customer_script_en = ScrubbedTextField(_("对顾客说（英文）"), blank=True)
    cardholder_steps_zh = ScrubbedTextField(_("持卡人怎么做（中文，每行一步）"), blank=True)
    cardholder_steps_en = ScrubbedTextField(_("持卡人怎么做（英文，每行一步）"), blank=True)
    prevention_zh = ScrubbedTextField(_("如何预防（中文，每行一条）"), blank=True)
    prevention_en = ScrubbedTextField(_("如何预防（英文，每行一条）"), blank=True)
    keywords_zh = ScrubbedTextField(_("中文关键词（每行一个）"), blank=True)
    keywords_en = ScrubbedTextField(_("英文关键词（每行一个）"), blank=True)
    helpful_yes = models.PositiveIntegerField(_("有帮助"), default=0, editable=False)
    helpful_no = models.PositiveIntegerField(_("没帮助"), default=0, editable=False)
    source_hash = models.CharField(max_length=64, blank=True, editable=False)
    # What the article puts into the search index, stored on every save and every change of its
    # codes (knowledge.signals).
    search_terms = models.BinaryField(null=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["category__position", "slug"]
        verbose_name = _("文章")
        verbose_name_plural = _("文章")
        # Lead editors (and admins): publish without review (diagnosis.core.permissions).
        permissions = [("publish_article", _("不经复审直接发布文章"))]

    def __str__(self):
        return self.title_zh

    def get_absolute_url(self):
        return reverse("knowledge:article_detail", args=[self.slug])

    @property
    def title(self):
        return self.tr("title")

    @property
    def summary(self):
        return self.tr("summary")

    @property
    def is_published(self):
        return self.status == self.Status.PUBLISHED


class ArticleRevision(models.Model):
    """A snapshot of an article taken at every save: who, when, what changed."""

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="revisions", verbose_name=_("文章")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("修改人"),
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    changed_fields = ScrubbedJSONField(_("修改的字段"), default=list)
    data = ScrubbedJSONField(_("内容快照"))

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("文章修订")
        verbose_name_plural = _("文章修订")

    def __str__(self):
        return f"{self.article.slug} @ {self.created_at:%Y-%m-%d %H:%M}"


class ArticleChangeQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(state=ArticleChange.State.PENDING)


class ArticleChange(models.Model):
    """A change to an article submitted for review (review before publish): the proposed content
    as a snapshot (the revision format), kept apart from the article until a second editor
    approves it (then applied like any edit) or sends it back with a comment for its author; the
    author may withdraw it while it waits. These rows, with the audit events of
    knowledge/publishing.py, are the trail of the review."""

    class State(models.TextChoices):
        PENDING = "pending", _("等待复审")
        APPROVED = "approved", _("已批准发布")
        SENT_BACK = "sent_back", _("已退回")
        WITHDRAWN = "withdrawn", _("已撤回")

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="changes", verbose_name=_("文章")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("提交人"),
    )
    state = models.CharField(
        _("状态"), max_length=10, choices=State.choices, default=State.PENDING, db_index=True
    )
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now, db_index=True)
    # The article as it was when the change was submitted, and as the author proposes it.
    base = ScrubbedJSONField(_("提交时的内容"), default=dict)
    proposed = ScrubbedJSONField(_("提议的内容"), default=dict)
    changed_fields = ScrubbedJSONField(_("修改的字段"), default=list)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("复审人"),
    )
    reviewed_at = models.DateTimeField(_("复审时间"), null=True, blank=True)
    comment = ScrubbedTextField(_("复审意见"), blank=True, max_length=2000)
    revision = models.ForeignKey(
        ArticleRevision,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("发布后的修订"),
    )

    objects = ArticleChangeQuerySet.as_manager()

    class Meta:
        ordering = ["submitted_at", "pk"]
        verbose_name = _("待复审的修改")
        verbose_name_plural = _("待复审的修改")

    def __str__(self):
        return f"{self.article.slug} · {self.get_state_display()}"

    @property
    def is_pending(self):
        return self.state == self.State.PENDING


class ArticleVote(models.Model):
    """'Was this helpful?' — one vote per visitor (hashed key) per article."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    voter_key = models.CharField(max_length=64)
    helpful = models.BooleanField()
    comment = ScrubbedTextField(blank=True, max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "voter_key"], name="one_vote_per_visitor")
        ]
        verbose_name = _("文章评价")
        verbose_name_plural = _("文章评价")

    def __str__(self):
        return f"{self.article_id} {'+' if self.helpful else '-'}"


class AnnouncementQuerySet(models.QuerySet):
    def active(self, now=None):
        now = now or timezone.now()
        return self.filter(starts_at__lte=now).filter(
            models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=now)
        )

    def for_bank(self, bank):
        """Announcements for this bank or for all banks (bank is None)."""
        if bank is None:
            return self.filter(bank__isnull=True)
        return self.filter(models.Q(bank__isnull=True) | models.Q(bank=bank))


class Announcement(BilingualMixin, models.Model):
    """A bank announcement, e.g. a maintenance window of an acquirer or issuer."""

    class Severity(models.TextChoices):
        INFO = "info", _("提示")
        WARNING = "warning", _("注意")
        CRITICAL = "critical", _("严重")

    class BankRole(models.TextChoices):
        ACQUIRER = "acquirer", _("收单行")
        ISSUER = "issuer", _("发卡行")
        NETWORK = "network", _("转接网络")

    bank = models.ForeignKey(
        "diagnosis.Bank",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="announcements",
        verbose_name=_("银行（留空表示所有银行）"),
    )
    bank_role = models.CharField(
        _("银行角色"), max_length=10, choices=BankRole.choices, default=BankRole.ACQUIRER
    )
    title_zh = ScrubbedCharField(_("中文标题"), max_length=160)
    title_en = ScrubbedCharField(_("英文标题"), max_length=200)
    body_zh = ScrubbedTextField(_("中文正文（Markdown）"), blank=True)
    body_en = ScrubbedTextField(_("英文正文（Markdown）"), blank=True)
    severity = models.CharField(
        _("级别"), max_length=10, choices=Severity.choices, default=Severity.WARNING
    )
    starts_at = models.DateTimeField(_("开始时间"), default=timezone.now, db_index=True)
    ends_at = models.DateTimeField(_("结束时间"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = AnnouncementQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("银行公告")
        verbose_name_plural = _("银行公告")

    def __str__(self):
        return self.title_zh

    def get_absolute_url(self):
        return reverse("knowledge:announcement_detail", args=[self.pk])

    @property
    def title(self):
        return self.tr("title")

    @property
    def body(self):
        return self.tr("body")

    def clean(self):
        super().clean()
        if self.ends_at and self.starts_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("结束时间必须晚于开始时间。")})

    def status(self, now=None) -> str:
        """ "active", "upcoming" or "past"."""
        now = now or timezone.now()
        if self.starts_at > now:
            return "upcoming"
        if self.ends_at is not None and self.ends_at <= now:
            return "past"
        return "active"

    @property
    def window_text(self) -> str:
        """The time window in the active language and the site's time zone."""
        moment = _("n月j日 H:i")
        start = dateformat.format(timezone.localtime(self.starts_at), str(moment))
        if self.ends_at is None:
            return _("%(start)s 起，结束时间待定") % {"start": start}
        end_local = timezone.localtime(self.ends_at)
        if end_local.date() == timezone.localtime(self.starts_at).date():
            end = dateformat.format(end_local, "H:i")
        else:
            end = dateformat.format(end_local, str(moment))
        return _("%(start)s 至 %(end)s") % {"start": start, "end": end}

    @property
    def more_label(self):
        return _("查看详情")

    @property
    def bank_label(self) -> str:
        if self.bank_id is None:
            return str(_("所有银行"))
        return f"{self.bank.name} · {self.get_bank_role_display()}"


class SearchTerm(models.Model):
    """A word of the search vocabulary: stored analyses refer to terms by id (knowledge.search).

    Rows are only ever added; a term no document uses any more is simply not indexed.
    """

    text = ScrubbedTextField(unique=True)

    def __str__(self):
        return self.text


class SearchIndexArtefact(models.Model):
    """A built search index, shared by every process (knowledge/search/artefact.py).

    Built once per content version by a background task; web processes copy it to a local file
    and map it into memory instead of building their own. The newest few are kept.
    """

    token = models.CharField(max_length=64, unique=True)
    # SHA-256 of `data`, which depends on the content alone: the same content under a new token
    # (the cache lost its version counter) is the same index, and no process loads it again.
    digest = models.BinaryField(max_length=32, default=b"")
    created_at = models.DateTimeField(default=timezone.now)
    documents = models.PositiveIntegerField(default=0)
    size = models.PositiveBigIntegerField(default=0)
    build_seconds = models.FloatField(default=0)
    data = models.BinaryField()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.token} ({self.documents} documents, {self.size} bytes)"


# --- what merchants could not find (knowledge/gaps/) -------------------------------------------
# Aggregated per local day, written in batches (knowledge/gaps/services.py): no visitor, user or
# address is kept, and the texts are scrubbed of card numbers like every other free text. Several
# rows with one key are harmless (a race between two processes' flushes): readers SUM.
class SearchQueryDay(models.Model):
    """Searches per local day × language × query (normalised, lower-cased, scrubbed)."""

    day = models.DateField(_("日期"))
    lang = models.CharField(_("语言"), max_length=2)
    query = ScrubbedCharField(_("搜索词"), max_length=200)
    searches = models.PositiveIntegerField(_("搜索次数"), default=0)
    empty = models.PositiveIntegerField(_("无结果次数"), default=0)
    opened = models.PositiveIntegerField(_("打开结果次数"), default=0)
    results = models.PositiveIntegerField(_("结果数"), default=0)  # of the last search

    class Meta:
        verbose_name = _("内容缺口")
        verbose_name_plural = _("内容缺口")
        indexes = [models.Index(fields=["day", "lang", "query"], name="gap_search_day")]

    def __str__(self):
        return f"{self.day} {self.lang} {self.query}: {self.searches}"


class UnknownCodeDay(models.Model):
    """Response codes typed that we do not know, per local day × where they were typed."""

    class Source(models.TextChoices):
        CODE_PAGE = "code_page", _("应答码页")
        SEARCH = "search", _("搜索框")
        WIZARD = "wizard", _("排查向导")

    day = models.DateField(_("日期"))
    code = ScrubbedCharField(_("应答码"), max_length=8)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    count = models.PositiveIntegerField(_("次数"), default=0)

    class Meta:
        indexes = [models.Index(fields=["day", "code"], name="gap_code_day")]

    def __str__(self):
        return f"{self.day} {self.code} ({self.source}): {self.count}"


class WizardPathDay(models.Model):
    """Wizard runs per local day × outcome × answer path: reached, answered "not solved"."""

    day = models.DateField(_("日期"))
    outcome = ScrubbedCharField(_("结论"), max_length=40)
    path = ScrubbedCharField(_("回答路径"), max_length=400)
    reached = models.IntegerField(_("到达次数"), default=0)
    not_solved = models.IntegerField(_("没解决"), default=0)

    class Meta:
        indexes = [models.Index(fields=["day", "outcome"], name="gap_wizard_day")]

    def __str__(self):
        return f"{self.day} {self.path} → {self.outcome}: {self.not_solved}/{self.reached}"


# --- search synonyms (knowledge/search/synonyms.py) ---------------------------------------------
class SynonymGroupQuerySet(models.QuerySet):
    def groups(self) -> list[list[str]]:
        """Every group's phrases, for the search (one query)."""
        return [
            lines(text) for text in self.order_by("lang", "key").values_list("phrases", flat=True)
        ]


class SynonymGroup(models.Model):
    """Phrases that mean the same to a merchant: a query with one of them also searches the
    others (with a lower weight). Loaded from knowledge/content/synonyms.json, edited here."""

    class Lang(models.TextChoices):
        ZH = "zh", _("中文")
        EN = "en", _("英文")

    key = ScrubbedCharField(_("键"), max_length=40, unique=True, validators=[validate_slug])
    lang = models.CharField(_("语言"), max_length=2, choices=Lang.choices, default=Lang.ZH)
    phrases = ScrubbedTextField(
        _("同义说法（每行一个）"),
        help_text=_("查询里出现其中任何一个说法时，其余说法也会以较低权重一起搜索。"),
    )
    # The SHA-256 hex digest of the content last loaded (config/content_merge.py), as bytes.
    source_hash = models.BinaryField(max_length=64, default=b"", editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = SynonymGroupQuerySet.as_manager()

    class Meta:
        ordering = ["lang", "key"]
        verbose_name = _("同义词组")
        verbose_name_plural = _("同义词组")

    def __str__(self):
        return f"{self.key} · {' / '.join(lines(self.phrases)[:3])}"

    def clean(self):
        super().clean()
        phrases = clean_phrases(self.phrases or "")
        if len(phrases) < 2:
            raise ValidationError({"phrases": _("一个同义词组至少要有两个说法。")})
        self.phrases = "\n".join(phrases)

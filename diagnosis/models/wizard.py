"""Wizard models: the draft tree editors change and the published snapshots merchants use.

Editors edit the *draft* rows (questions and their options, outcomes with their causes and
articles, code routes) in the admin. Publishing validates the draft (diagnosis.wizard.validation)
and freezes it as a `WizardVersion`: an immutable JSON snapshot in the format of
`diagnosis/wizard/content/wizard.json`. Merchants only ever walk the latest published snapshot, so a
half-finished edit never reaches them. `WizardRun` records finished runs anonymously.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from diagnosis.core.scrubbed_fields import ScrubbedCharField, ScrubbedJSONField, ScrubbedTextField

__all__ = [
    "WizardCause",
    "WizardCodeRoute",
    "WizardImport",
    "WizardOption",
    "WizardOutcome",
    "WizardOutcomeArticle",
    "WizardQuestion",
    "WizardRun",
    "WizardVersion",
]

# Ids travel in URLs (`?a=no-code.many-cards`), separated by dots: lowercase slugs only.
wizard_id_validator = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
    _("只能用小写英文字母、数字和连字符，例如 q-scope。"),
)
code_validator = RegexValidator(r"^[0-9A-Z]{2}$", _("应答码是两位数字或大写字母，例如 51、A0。"))


class WizardQuestion(models.Model):
    class Kind(models.TextChoices):
        CODE = "code", _("问应答码（输入框加选项）")
        CHOICE = "choice", _("选择题")

    key = models.CharField(
        _("编号"),
        max_length=40,
        unique=True,
        validators=[wizard_id_validator],
        help_text=_("出现在网址里，发布后请不要随意改动。"),
    )
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices, default=Kind.CHOICE)
    is_start = models.BooleanField(
        _("第一个问题"), default=False, help_text=_("整个向导从这个问题开始，只能有一个。")
    )
    text_zh = ScrubbedCharField(_("问题（中文）"), max_length=300)
    text_en = ScrubbedCharField(_("问题（英文）"), max_length=300)
    help_zh = ScrubbedTextField(_("提示（中文）"), blank=True, max_length=1000)
    help_en = ScrubbedTextField(_("提示（英文）"), blank=True, max_length=1000)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    source_hash = models.CharField(max_length=64, blank=True, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["position", "key"]
        verbose_name = _("向导问题（草稿）")
        verbose_name_plural = _("向导问题（草稿）")
        constraints = [
            models.UniqueConstraint(
                fields=["is_start"], condition=Q(is_start=True), name="wizard_one_start_question"
            )
        ]

    def __str__(self):
        return f"{self.key} · {self.text_zh}"


class WizardOutcome(models.Model):
    """A conclusion of the wizard. Who acts and whether to retry are stated here, explicitly:
    the page never falls back to a category's default (a wrong "retry" costs money)."""

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
        CHECK_FIRST = "check_first", _("先查上一笔，再决定")

    key = models.CharField(
        _("编号"),
        max_length=40,
        unique=True,
        validators=[wizard_id_validator],
        help_text=_("出现在统计和接口里，发布后请不要随意改动。"),
    )
    category = models.ForeignKey(
        "knowledge.Category",
        on_delete=models.PROTECT,
        related_name="wizard_outcomes",
        verbose_name=_("分类"),
    )
    bank_side = models.BooleanField(
        _("银行方原因"),
        default=False,
        help_text=_(
            "银行或银联系统的问题。有生效的银行公告时，如果商户经过的问题里有一个选项通向这个"
            "结论，结论页会把它排在最前面。"
        ),
    )
    title_zh = ScrubbedCharField(_("标题（中文）"), max_length=200)
    title_en = ScrubbedCharField(_("标题（英文）"), max_length=200)
    summary_zh = ScrubbedTextField(_("摘要（中文）"), max_length=2000)
    summary_en = ScrubbedTextField(_("摘要（英文）"), max_length=2000)
    who_acts = models.CharField(_("由谁处理"), max_length=12, choices=WhoActs.choices, blank=True)
    who_acts_note_zh = ScrubbedTextField(_("由谁处理：说明（中文）"), blank=True, max_length=500)
    who_acts_note_en = ScrubbedTextField(_("由谁处理：说明（英文）"), blank=True, max_length=500)
    retry = models.CharField(_("能否重试"), max_length=12, choices=Retry.choices, blank=True)
    retry_advice_zh = ScrubbedTextField(_("重试建议（中文）"), blank=True, max_length=1000)
    retry_advice_en = ScrubbedTextField(_("重试建议（英文）"), blank=True, max_length=1000)
    category_exceptions = ScrubbedJSONField(
        _("分类例外"),
        default=list,
        blank=True,
        help_text=_(
            "应答码的分类是事实：从某个应答码走到的结论必须属于同一分类。确有例外时在这里列出"
            "应答码和理由，例如 "
            '[{"code": "19", "reason": {"zh-hans": "……", "en": "……"}}]。'
        ),
    )
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    source_hash = models.CharField(max_length=64, blank=True, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["position", "key"]
        verbose_name = _("向导结论（草稿）")
        verbose_name_plural = _("向导结论（草稿）")

    def __str__(self):
        return f"{self.key} · {self.title_zh}"


class WizardOption(models.Model):
    question = models.ForeignKey(
        WizardQuestion, on_delete=models.CASCADE, related_name="options", verbose_name=_("问题")
    )
    key = models.CharField(_("编号"), max_length=40, validators=[wizard_id_validator])
    label_zh = ScrubbedCharField(_("选项（中文）"), max_length=200)
    label_en = ScrubbedCharField(_("选项（英文）"), max_length=200)
    next_question = models.ForeignKey(
        WizardQuestion,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incoming_options",
        verbose_name=_("下一个问题"),
    )
    outcome = models.ForeignKey(
        WizardOutcome,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incoming_options",
        verbose_name=_("结论"),
    )
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        ordering = ["question", "position", "pk"]
        verbose_name = _("选项")
        verbose_name_plural = _("选项")
        constraints = [
            models.UniqueConstraint(fields=["question", "key"], name="wizard_option_key_unique"),
            models.CheckConstraint(
                condition=Q(next_question__isnull=True) | Q(outcome__isnull=True),
                name="wizard_option_one_target",
            ),
        ]

    def __str__(self):
        return f"{self.question.key}.{self.key}"

    def clean(self):
        if self.next_question_id and self.outcome_id:
            raise ValidationError(_("一个选项只能指向一个下一个问题或一个结论，不能两个都填。"))
        if not self.next_question_id and not self.outcome_id:
            raise ValidationError(_("请选择下一个问题或结论。"))


class WizardCause(models.Model):
    outcome = models.ForeignKey(
        WizardOutcome, on_delete=models.CASCADE, related_name="causes", verbose_name=_("结论")
    )
    text_zh = ScrubbedCharField(_("原因（中文）"), max_length=300)
    text_en = ScrubbedCharField(_("原因（英文）"), max_length=300)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        ordering = ["outcome", "position", "pk"]
        verbose_name = _("可能原因")
        verbose_name_plural = _("可能原因（按可能性排序）")

    def __str__(self):
        return self.text_zh


class WizardOutcomeArticle(models.Model):
    outcome = models.ForeignKey(
        WizardOutcome,
        on_delete=models.CASCADE,
        related_name="article_links",
        verbose_name=_("结论"),
    )
    article = models.ForeignKey(
        "knowledge.Article",
        on_delete=models.PROTECT,
        related_name="wizard_links",
        verbose_name=_("文章"),
    )
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        ordering = ["outcome", "position", "pk"]
        verbose_name = _("解决办法文章")
        verbose_name_plural = _("解决办法文章")
        constraints = [
            models.UniqueConstraint(
                fields=["outcome", "article"], name="wizard_outcome_article_unique"
            )
        ]

    def __str__(self):
        return f"{self.outcome_id} → {self.article_id}"


class WizardCodeRoute(models.Model):
    """Where a typed response code leads: straight to an outcome, or on to a question."""

    code = models.CharField(_("应答码"), max_length=2, unique=True, validators=[code_validator])
    next_question = models.ForeignKey(
        WizardQuestion,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="code_routes",
        verbose_name=_("下一个问题"),
    )
    outcome = models.ForeignKey(
        WizardOutcome,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="code_routes",
        verbose_name=_("结论"),
    )
    source_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("应答码去向（草稿）")
        verbose_name_plural = _("应答码去向（草稿）")
        constraints = [
            models.CheckConstraint(
                condition=Q(next_question__isnull=True) | Q(outcome__isnull=True),
                name="wizard_code_route_one_target",
            )
        ]

    def __str__(self):
        return self.code

    def save(self, *args, **kwargs):
        self.code = (self.code or "").strip().upper()
        super().save(*args, **kwargs)

    def clean(self):
        self.code = (self.code or "").strip().upper()
        if self.next_question_id and self.outcome_id:
            raise ValidationError(_("一个应答码只能指向一个下一个问题或一个结论，不能两个都填。"))
        if not self.next_question_id and not self.outcome_id:
            raise ValidationError(_("请选择下一个问题或结论。"))


class WizardVersion(models.Model):
    """A published, validated, immutable snapshot of the whole tree."""

    number = models.PositiveIntegerField(_("版本号"), unique=True)
    snapshot = ScrubbedJSONField(_("内容快照"))
    published_at = models.DateTimeField(_("发布时间"), default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("发布人"),
    )
    note = ScrubbedCharField(_("发布说明"), max_length=200, blank=True)

    class Meta:
        ordering = ["-number"]
        verbose_name = _("向导已发布版本")
        verbose_name_plural = _("向导已发布版本")

    def __str__(self):
        return f"v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValidationError(_("已发布的版本不能修改；请修改草稿后重新发布。"))
        super().save(*args, **kwargs)


class WizardRun(models.Model):
    """One finished run, recorded anonymously: no user, no IP, no card data."""

    version = models.ForeignKey(
        WizardVersion, on_delete=models.PROTECT, related_name="runs", verbose_name=_("版本")
    )
    path = models.CharField(_("回答路径"), max_length=400)
    code = models.CharField(_("应答码"), max_length=2, blank=True)
    outcome = models.CharField(_("结论"), max_length=40)
    bank_lead = models.BooleanField(
        _("银行公告优先"), default=False, help_text=_("有银行公告，银行方原因排在了最前面。")
    )
    solved = models.BooleanField(_("解决了吗"), null=True, blank=True)
    created_at = models.DateTimeField(_("到达结论时间"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("回答“解决了吗”的时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("向导使用记录")
        verbose_name_plural = _("向导使用记录")
        indexes = [
            models.Index(fields=["outcome", "created_at"], name="wizard_run_outcome_created"),
        ]

    def __str__(self):
        return f"v{self.version_id} {self.path} → {self.outcome}"


class WizardImport(models.Model):
    """What `load_wizard` loaded and when, so a later load neither repeats itself nor brings
    back a question, outcome or code route that an editor deleted on purpose."""

    file_hash = models.CharField(max_length=64)
    keys = ScrubbedJSONField(default=list)  # every "question:…", "outcome:…", "code:…" ever loaded
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("向导内容导入记录")
        verbose_name_plural = _("向导内容导入记录")

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.file_hash[:8]}"

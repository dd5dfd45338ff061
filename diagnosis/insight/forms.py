"""Dashboard filters and incident action forms (invalid input falls back, never a 500)."""

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from diagnosis.core.validators import validate_filter_date
from diagnosis.insight.aggregates import InsightFilters
from diagnosis.models import Bank, Incident

MAX_DAYS = 366 * 2
MAX_HOUR_DAYS = 14


class InsightFilterForm(forms.Form):
    date_from = forms.DateField(
        label=_("开始日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_filter_date],
    )
    date_to = forms.DateField(
        label=_("结束日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_filter_date],
    )
    acquirer = forms.ModelChoiceField(
        label=_("收单行"),
        queryset=Bank.objects.filter(is_acquirer=True),
        required=False,
        empty_label=_("全部收单行"),
    )
    bucket = forms.ChoiceField(
        label=_("时间粒度"),
        choices=[("hour", _("按小时")), ("day", _("按天")), ("week", _("按周"))],
        required=False,
        initial="day",
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("结束日期不能早于开始日期。"))
        elif start and end and (end - start).days > MAX_DAYS:
            self.add_error("date_from", _("日期范围最多两年。"))
        elif data.get("bucket") == "hour" and start and end and (end - start).days >= MAX_HOUR_DAYS:
            self.add_error("bucket", _("按小时统计时，日期范围最多 14 天。"))
        return data

    def filters(self) -> InsightFilters:
        """The filters to use: the valid fields, defaults (last 30 days, by day) for the rest."""
        today = timezone.localdate()
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        end = data.get("date_to") or today
        start = data.get("date_from") or end - timedelta(days=29)
        acquirer = data.get("acquirer")
        return InsightFilters(
            date_from=start,
            date_to=end,
            acquirer_id=acquirer.pk if acquirer else None,
            bucket=data.get("bucket") or "day",
        )


class IncidentFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"),
        choices=[("", _("进行中（待确认和已确认）")), ("all", _("全部"))]
        + list(Incident.Status.choices),
        required=False,
    )


class IncidentStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("改为状态"), choices=Incident.Status.choices)


class IncidentLinkForm(forms.Form):
    numbers = forms.CharField(
        label=_("关联工单号"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("一行或用逗号、空格分隔多个工单号，只能关联同一收单行的工单。"),
    )

    def clean_numbers(self):
        raw = self.cleaned_data["numbers"].replace(",", " ").replace("，", " ").split()
        if not raw:
            raise forms.ValidationError(_("请填写工单号。"))
        return raw


class IncidentReplyForm(forms.Form):
    body = forms.CharField(
        label=_("回复内容（发给所有关联工单的商户）"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

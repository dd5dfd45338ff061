"""Forms of the escalation batches: create from the queue, bank references, status, list filter."""

from django import forms
from django.utils.translation import gettext_lazy as _

from diagnosis.core.cards import scrub_text
from diagnosis.core.forms import CardSafeFormMixin
from diagnosis.desk.forms import AcquirerChoiceField
from diagnosis.desk.selectors import desk_acquirers
from diagnosis.models import EscalationBatch


class EscalationCreateForm(CardSafeFormMixin, forms.Form):
    tickets = forms.MultipleChoiceField(
        label=_("工单"), error_messages={"required": _("请先勾选至少一张工单。")}
    )
    note = forms.CharField(
        label=_("给银行的说明（可选）"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        numbers = self.data.getlist("tickets") if hasattr(self.data, "getlist") else []
        self.fields["tickets"].choices = [(n, n) for n in numbers[:500]]

    def clean_note(self):
        return scrub_text(self.cleaned_data["note"]).strip()


class BankReferenceForm(CardSafeFormMixin, forms.Form):
    reference = forms.CharField(label=_("银行受理号"), required=False, max_length=60)

    def clean_reference(self):
        return scrub_text(self.cleaned_data["reference"]).strip()


class BatchActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("sent", _("标记为已发送")),
            ("answered", _("标记为银行已答复")),
            ("closed", _("关闭批次")),
        ]
    )


class BatchFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部状态")), *EscalationBatch.Status.choices],
    )
    acquirer = AcquirerChoiceField(
        label=_("收单行"), queryset=None, required=False, empty_label=_("全部收单行")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["acquirer"].queryset = desk_acquirers()

    def filters(self) -> dict:
        if not self.is_bound:
            return {}
        self.is_valid()
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class BankReplyUploadForm(forms.Form):
    file = forms.FileField(
        label=_("银行答复文件"),
        help_text=_(
            "CSV（UTF-8 或 GBK）或 XLSX，每行一笔：工单号（或参考号、终端号、金额）、"
            "银行受理号、处理结果。"
        ),
        error_messages={"required": _("请选择银行的答复文件。")},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 5 * 1024 * 1024:
            raise forms.ValidationError(_("文件太大（最大 5 MB）。"))
        return upload

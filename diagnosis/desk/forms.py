"""Forms of the agents' desk: queue filters, bulk actions, the agent's ticket page, escalations."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from diagnosis.core.cards import scrub_text
from diagnosis.core.forms import CardSafeFormMixin
from diagnosis.core.validators import response_code_validator, validate_filter_date
from diagnosis.desk.selectors import SORTS, desk_acquirers, desk_agents
from diagnosis.models import Ticket
from diagnosis.tickets import workflow

STATUS_FILTER_CHOICES = [
    ("open", _("未完结（全部）")),
    ("all", _("全部状态")),
    *Ticket.Status.choices,
]
SORT_LABELS = {
    "newest": _("最新提交"),
    "oldest": _("最早提交"),
    "transaction": _("交易时间（最近）"),
    "due": _("首次回复期限（最早）"),
    "priority": _("优先级（紧急在前）"),
    "sla": _("SLA 期限（最早到期）"),
}
SLA_FILTER_CHOICES = [
    ("", _("全部")),
    ("breached", _("SLA 已违约")),
    ("near", _("SLA 即将到期")),
]
SORT_CHOICES = [(name, SORT_LABELS[name]) for name in SORTS]
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def scrub_filter_value(name, value):
    if name == "merchant" and is_mid(value):
        return value  # a well-formed MID in the MID filter is a MID, not a card number
    return scrub_text(value)


def is_mid(value: str) -> bool:
    value = value.strip()
    return len(value) == 15 and value.isascii() and value.isdigit()


def agent_label(user) -> str:
    full = user.get_full_name()
    return f"{full} ({user.get_username()})" if full else user.get_username()


class AcquirerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name  # in the active language (Category.__str__ is the Chinese admin label)


class QueueFilterForm(CardSafeFormMixin, forms.Form):
    """GET filters of the queue. Invalid values are reported and ignored, never a 500."""

    q = forms.CharField(
        label=_("工单号或参考号"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "DD-2026-000123"}),
    )
    status = forms.ChoiceField(label=_("状态"), choices=STATUS_FILTER_CHOICES, required=False)
    acquirer = AcquirerChoiceField(
        label=_("收单行"), queryset=None, required=False, empty_label=_("全部收单行")
    )
    category = CategoryChoiceField(
        label=_("分类"),
        queryset=None,
        required=False,
        to_field_name="key",
        empty_label=_("全部分类"),
    )
    code = forms.CharField(
        label=_("应答码"), required=False, max_length=2, validators=[response_code_validator]
    )
    merchant = forms.CharField(
        label=_("商户号（MID）"),
        required=False,
        max_length=15,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    tid = forms.CharField(label=_("终端号（TID）"), required=False, max_length=8)
    assignee = forms.ChoiceField(label=_("处理人"), required=False)
    overdue = forms.BooleanField(label=_("只看已超时"), required=False)
    sla = forms.ChoiceField(label=_("SLA"), choices=SLA_FILTER_CHOICES, required=False)
    date_from = forms.DateField(
        label=_("提交日期从"), required=False, widget=DATE_WIDGET, validators=[validate_filter_date]
    )
    date_to = forms.DateField(
        label=_("提交日期到"), required=False, widget=DATE_WIDGET, validators=[validate_filter_date]
    )
    sort = forms.ChoiceField(label=_("排序"), choices=SORT_CHOICES, required=False)

    def __init__(self, *args, agents=None, **kwargs):
        super().__init__(*args, **kwargs)
        from knowledge.models import Category

        self.fields["acquirer"].queryset = desk_acquirers()
        self.fields["category"].queryset = Category.objects.order_by("position", "key")
        agents = list(agents if agents is not None else desk_agents())
        self.fields["assignee"].choices = [
            ("", _("全部处理人")),
            ("me", _("分配给我")),
            ("none", _("未分配")),
            *[(str(a.pk), agent_label(a)) for a in agents],
        ]

    def scrub_value(self, name, value):
        return scrub_filter_value(name, value)

    @classmethod
    def scrubbed_query(cls, data):
        """A copy of the GET data with card numbers masked, or None when nothing changed."""
        changed = False
        clean = data.copy()
        for name in list(data):
            values = data.getlist(name)
            masked = [scrub_filter_value(name, v) for v in values]
            if masked != values:
                clean.setlist(name, masked)
                changed = True
        return clean if changed else None

    def clean_merchant(self):
        value = self.cleaned_data["merchant"].strip()
        if value and not (value.isdigit() and len(value) == 15):
            raise ValidationError(_("商户号（MID）是 15 位数字。"))
        return value

    def clean_tid(self):
        value = self.cleaned_data["tid"].strip()
        if value and not (value.isalnum() and len(value) == 8 and value.isascii()):
            raise ValidationError(_("终端号（TID）是 8 位数字或字母。"))
        return value.upper()

    def clean_code(self):
        return self.cleaned_data["code"].strip().upper()

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("结束日期不能早于开始日期。"))
        return data

    def filters(self) -> dict:
        """The valid filters (an invalid field is left out rather than failing the page)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "", False)}


class BulkActionForm(CardSafeFormMixin, forms.Form):
    """Bulk assign / bulk status change on the tickets ticked in the queue."""

    ACTION_ASSIGN = "assign"
    ACTION_STATUS = "status"

    action = forms.ChoiceField(
        choices=[(ACTION_ASSIGN, _("批量指派")), (ACTION_STATUS, _("批量改状态"))]
    )
    tickets = forms.MultipleChoiceField(
        label=_("工单"),
        error_messages={"required": _("请先勾选至少一张工单。")},
    )
    assignee = forms.ChoiceField(label=_("指派给"), required=False)
    status = forms.ChoiceField(
        label=_("改为状态"), required=False, choices=[("", "—"), *Ticket.Status.choices]
    )
    note = forms.CharField(label=_("状态备注（可选）"), required=False, max_length=1000)

    def __init__(self, *args, agents=None, **kwargs):
        super().__init__(*args, **kwargs)
        agents = list(agents if agents is not None else desk_agents())
        self.agents = {str(a.pk): a for a in agents}
        self.fields["assignee"].choices = [
            ("", "—"),
            ("none", _("取消指派")),
            *[(pk, agent_label(a)) for pk, a in self.agents.items()],
        ]
        numbers = self.data.getlist("tickets") if hasattr(self.data, "getlist") else []
        self.fields["tickets"].choices = [(n, n) for n in numbers[:500]]

    def clean_tickets(self):
        numbers = self.cleaned_data["tickets"]
        if len(numbers) > 200:
            raise ValidationError(_("一次最多处理 200 张工单。"))
        return numbers

    def clean_note(self):
        return scrub_text(self.cleaned_data["note"])

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == self.ACTION_ASSIGN and not data.get("assignee"):
            self.add_error("assignee", _("请选择要指派给谁。"))
        if action == self.ACTION_STATUS and not data.get("status"):
            self.add_error("status", _("请选择新的状态。"))
        return data

    def assignee_user(self):
        value = self.cleaned_data.get("assignee")
        return None if value in ("", "none", None) else self.agents[value]


class _AgentTextForm(CardSafeFormMixin, forms.Form):
    """One required text ("body") written by an agent: scrubbed of card numbers, not blank."""

    def clean_body(self):
        body = scrub_text(self.cleaned_data["body"]).strip()
        if not body:
            raise ValidationError(_("请填写内容。"))
        return body


def _body_field(label, help_text, rows):
    return forms.CharField(
        label=label,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": rows}),
        help_text=help_text,
    )


class AgentReplyForm(_AgentTextForm):
    """The agent's public reply to the merchant (the merchant's own is MerchantReplyForm)."""

    body = _body_field(
        _("回复商户"),
        _("商户会看到这条回复并收到邮件。不要索取完整卡号、密码、CVV 或有效期。"),
        rows=5,
    )
    # Collision warning (diagnosis/desk/views.py): the last event the agent saw, and whether they
    # confirmed sending although someone else replied meanwhile.
    last_event = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    confirm_send = forms.BooleanField(required=False, widget=forms.HiddenInput)


class AgentNoteForm(_AgentTextForm):
    """An internal note: agents only, never shown or mailed to the merchant."""

    body = _body_field(_("内部备注"), _("只有支持专员能看到，不会发给商户。"), rows=4)

    def __init__(self, *args, **kwargs):
        # Shown next to AgentReplyForm, which also has a "body" field: its own ids keep each
        # label (and help text) tied to its own textarea. Field names are unchanged.
        kwargs.setdefault("auto_id", "id_note_%s")
        super().__init__(*args, **kwargs)


class StatusForm(CardSafeFormMixin, forms.Form):
    status = forms.ChoiceField(label=_("新状态"))
    note = forms.CharField(
        label=_("说明（可选，商户可见）"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = workflow.allowed_transitions(ticket, workflow.AGENT)
        self.fields["status"].choices = [(s, Ticket.Status(s).label) for s in allowed]
        self.has_choices = bool(allowed)

    def clean_note(self):
        return scrub_text(self.cleaned_data["note"]).strip()


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(label=_("处理人"), required=False)

    def __init__(self, *args, agents, **kwargs):
        super().__init__(*args, **kwargs)
        self.agents = {str(a.pk): a for a in agents}
        self.fields["assignee"].choices = [
            ("", _("未分配")),
            *[(pk, agent_label(a)) for pk, a in self.agents.items()],
        ]

    def assignee_user(self):
        return self.agents.get(self.cleaned_data.get("assignee") or "")


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(label=_("优先级"), choices=Ticket.Priority.choices)

"""Forms of the merchant ticket pages and the ticket API.

Card data: every submitted value is scrubbed as the form is bound (diagnosis.core.forms.
CardSafeFormMixin), so a form re-displayed with errors, and every error message that quotes a
value, can only ever show a masked card number; the card field shows its masked form (or nothing
when it cannot be read). Storage scrubs again (diagnosis.core.scrubbed_fields).
"""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from diagnosis.core.cards import mask_card_field, scrub_text
from diagnosis.core.forms import CardSafeFormMixin
from diagnosis.core.validators import (
    response_code_validator,
    rrn_validator,
    six_digits_validator,
    tid_validator,
    validate_transaction_time,
)
from diagnosis.models import Terminal, Ticket
from diagnosis.tickets.attachments import ALLOWED_HELP, max_bytes, validate_upload
from diagnosis.tickets.services import CLOCK_SKEW, MAX_ATTACHMENTS

CURRENCY_CHOICES = [
    ("CNY", _("人民币 CNY")),
    ("HKD", _("港币 HKD")),
    ("MOP", _("澳门元 MOP")),
    ("USD", _("美元 USD")),
    ("EUR", _("欧元 EUR")),
    ("JPY", _("日元 JPY")),
    ("GBP", _("英镑 GBP")),
]
CARD_FIELD_HELP = _("只填卡号后 4 位，或前 6 位加后 4 位；填了完整卡号也只会保存前 6 位和后 4 位。")
SUMMARY_MAX = 4000
AMOUNT_MAX = Decimal("9999999999.99")


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; each is checked by content (JPEG/PNG/PDF) and size."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"})
        )
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        files = [item for item in files if item]
        if len(files) > MAX_ATTACHMENTS:
            raise ValidationError(
                _("一次最多上传 %(count)s 个附件。"),
                code="too_many_files",
                params={"count": MAX_ATTACHMENTS},
            )
        errors = []
        cleaned = []
        for item in files:
            item = super().clean(item, initial)
            try:
                validate_upload(item)
            except ValidationError as error:
                errors.extend(error.messages)
                continue
            cleaned.append(item)
        if errors:
            raise ValidationError(errors)
        return cleaned


def _allowed_help_text() -> str:
    return str(ALLOWED_HELP) % {"size": filesizeformat(max_bytes())}


# Evaluated when rendered, in the language of the request (not once at import time).
_allowed_help = lazy(_allowed_help_text, str)


def attachments_field():
    return MultipleFileField(
        label=_("附件（可选）"),
        help_text=_allowed_help(),
        error_messages={
            "invalid": _("请选择文件。"),
            "empty": _("上传的文件是空的。"),
            "missing": _("没有收到文件，请重新选择。"),
        },
    )


class TerminalChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.tid} · {obj.location}" if obj.location else obj.tid


def _text(label, *, max_length, validators=(), help_text="", attrs=None, required=False):
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        validators=list(validators),
        help_text=help_text,
        error_messages={
            "max_length": _("最多 %(limit_value)d 个字符（现在 %(show_value)d 个）。"),
            "required": _("请填写这一项。"),
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", **(attrs or {})}),
    )


class TicketForm(CardSafeFormMixin, forms.Form):
    """A merchant records a declined transaction (/tickets/new/)."""

    card_fields = ("card_number",)

    terminal = TerminalChoiceField(
        label=_("终端"),
        queryset=Terminal.objects.none(),
        required=False,
        empty_label=_("其他终端（在下面填写终端号）"),
        error_messages={"invalid_choice": _("请选择本商户的终端。")},
    )
    tid = _text(
        _("终端号（TID）"),
        max_length=8,
        validators=[tid_validator],
        help_text=_("终端上或签购单上的 8 位终端号。"),
        attrs={"autocapitalize": "characters", "spellcheck": "false"},
    )
    transaction_time = forms.DateTimeField(
        label=_("交易时间"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("签购单上的日期和时间（北京时间）。"),
        error_messages={
            "required": _("请填写交易时间。"),
            "invalid": _("请按“年-月-日 时:分”填写交易时间，例如 2026-03-01 14:30。"),
        },
    )
    amount = forms.DecimalField(
        label=_("金额"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=AMOUNT_MAX,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={
            "required": _("请填写交易金额。"),
            "invalid": _("请填写正确的金额，例如 128.50。"),
            "min_value": _("金额必须大于 0。"),
            "max_value": _("金额太大。"),
            "max_decimal_places": _("金额最多两位小数。"),
            "max_digits": _("金额太大。"),
            "max_whole_digits": _("金额太大。"),
        },
    )
    currency = forms.ChoiceField(
        label=_("币种"),
        choices=CURRENCY_CHOICES,
        initial="CNY",
        error_messages={"invalid_choice": _("请选择列表中的币种。")},
    )
    card_number = _text(
        _("卡号"),
        max_length=30,
        help_text=CARD_FIELD_HELP,
        attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"},
    )
    card_type = forms.ChoiceField(
        label=_("卡类型"),
        choices=Ticket.CardType.choices,
        initial=Ticket.CardType.UNKNOWN,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("请选择卡类型。")},
    )
    response_code = _text(
        _("应答码"),
        max_length=2,
        validators=[response_code_validator],
        help_text=_("签购单或屏幕上的 2 位应答码，例如 51、05、A0。"),
        attrs={"autocapitalize": "characters", "spellcheck": "false"},
    )
    rrn = _text(
        _("参考号（RRN）"),
        max_length=12,
        validators=[rrn_validator],
        help_text=_("签购单上的 12 位参考号。"),
        attrs={"spellcheck": "false"},
    )
    trace_number = _text(
        _("凭证号"),
        max_length=6,
        validators=[six_digits_validator],
        attrs={"inputmode": "numeric"},
    )
    batch_number = _text(
        _("批次号"),
        max_length=6,
        validators=[six_digits_validator],
        attrs={"inputmode": "numeric"},
    )
    description = forms.CharField(
        label=_("情况说明"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("发生了什么、已经试过什么。不要填写完整卡号、密码、CVV 或有效期。"),
        error_messages={"max_length": _("最多 %(limit_value)d 个字符（现在 %(show_value)d 个）。")},
    )
    attachments = attachments_field()
    wizard_summary = forms.CharField(required=False, widget=forms.HiddenInput)
    category = forms.CharField(required=False, widget=forms.HiddenInput)
    confirm_duplicates = forms.BooleanField(
        label=_("我已核对，这不是重复记录，仍然保存"), required=False
    )

    def __init__(self, *args, merchant, **kwargs):
        super().__init__(*args, **kwargs)
        self.merchant = merchant
        terminals = Terminal.objects.filter(merchant=merchant).order_by("tid")
        self.fields["terminal"].queryset = terminals
        self.fields["transaction_time"].widget.attrs["max"] = timezone.localtime().strftime(
            "%Y-%m-%dT%H:%M"
        )

    def clean_tid(self):
        return self.cleaned_data["tid"].strip().upper()

    def clean_response_code(self):
        return self.cleaned_data["response_code"].strip().upper()

    def clean_rrn(self):
        return self.cleaned_data["rrn"].strip().upper()

    def clean_card_number(self):
        return mask_card_field(self.raw_card_value("card_number"))

    def clean_transaction_time(self):
        value = self.cleaned_data["transaction_time"]
        validate_transaction_time(value)
        if value and value > timezone.now() + CLOCK_SKEW:
            raise ValidationError(_("交易时间不能晚于现在。"), code="future")
        return value

    def clean_wizard_summary(self):
        return scrub_text(self.cleaned_data["wizard_summary"]).strip()[:SUMMARY_MAX]

    def clean_category(self):
        from knowledge.models import Category

        key = self.cleaned_data["category"].strip()
        return Category.objects.filter(key=key).first() if key else None

    def clean(self):
        cleaned = super().clean()
        terminal = cleaned.get("terminal")
        if terminal is None and not cleaned.get("tid") and "tid" not in self.errors:
            self.add_error("tid", ValidationError(_("请选择终端或填写终端号（TID）。"), "required"))
        return cleaned

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "terminal": data.get("terminal"),
            "tid": data.get("tid", ""),
            "transaction_time": data["transaction_time"],
            "amount": data["amount"],
            "currency": data["currency"],
            "card_number": data.get("card_number", ""),
            "card_type": data["card_type"],
            "response_code": data.get("response_code", ""),
            "rrn": data.get("rrn", ""),
            "trace_number": data.get("trace_number", ""),
            "batch_number": data.get("batch_number", ""),
            "description": data.get("description", ""),
            "wizard_summary": data.get("wizard_summary", ""),
            "category": data.get("category"),
            "attachments": data.get("attachments") or [],
        }

    def duplicate_kwargs(self) -> dict:
        data = self.cleaned_data
        terminal = data.get("terminal")
        return {
            "merchant": self.merchant,
            "tid": terminal.tid if terminal else data.get("tid", ""),
            "rrn": data.get("rrn", ""),
            "card_masked": data.get("card_number", ""),
            "amount": data.get("amount"),
            "transaction_time": data.get("transaction_time"),
        }

    # Service errors are keyed by Ticket fields; map them onto this form's fields.
    FIELD_OF_MODEL = {"card_masked": "card_number"}

    def add_service_errors(self, error: ValidationError):
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for field, messages in error.message_dict.items():
            name = self.FIELD_OF_MODEL.get(field, field)
            self.add_error(name if name in self.fields else None, messages)


class MerchantReplyForm(CardSafeFormMixin, forms.Form):
    """The merchant's reply on its ticket, with attachments (the agent's is AgentReplyForm)."""

    body = forms.CharField(
        label=_("回复"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("不要填写完整卡号、密码、CVV 或有效期；卡号会被自动遮蔽。"),
        error_messages={"max_length": _("最多 %(limit_value)d 个字符（现在 %(show_value)d 个）。")},
    )
    attachments = attachments_field()

    def clean(self):
        cleaned = super().clean()
        empty = not (cleaned.get("body") or "").strip() and not cleaned.get("attachments")
        if empty and "body" not in self.errors and "attachments" not in self.errors:
            self.add_error("body", ValidationError(_("请填写回复内容或添加附件。"), "required"))
        return cleaned


class StatusNoteForm(CardSafeFormMixin, forms.Form):
    """Close / reopen by the merchant, with an optional public note."""

    note = forms.CharField(
        label=_("说明（可选）"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": _("最多 %(limit_value)d 个字符（现在 %(show_value)d 个）。")},
    )


class ApiTokenForm(CardSafeFormMixin, forms.Form):
    name = forms.CharField(
        label=_("名称"),
        max_length=60,
        required=False,
        help_text=_("例如“收银系统”，方便以后认出这个令牌。"),
        error_messages={"max_length": _("最多 %(limit_value)d 个字符（现在 %(show_value)d 个）。")},
    )


# --- API ---------------------------------------------------------------------------------------


def _api_time(value):
    if isinstance(value, str):
        parsed = None
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None:
            try:
                validate_transaction_time(parsed)
                return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
            except OverflowError:
                pass
    raise ValidationError(
        _("交易时间要用 ISO 8601 格式，例如 2026-03-01T14:30:00+08:00。"), code="invalid"
    )


class ApiTicketForm(CardSafeFormMixin, forms.Form):
    """POST /api/v1/tickets: JSON fields named as in PRODUCT.md, values already type-checked."""

    card_fields = ("card_number",)

    terminal_id = _text(_("终端号（TID）"), max_length=8, validators=[tid_validator], required=True)
    transaction_time = forms.CharField(
        label=_("交易时间"), error_messages={"required": _("请填写交易时间。")}
    )
    amount = forms.CharField(label=_("金额"), error_messages={"required": _("请填写交易金额。")})
    currency = forms.CharField(label=_("币种"), required=False, max_length=3)
    card_number = _text(_("卡号"), max_length=30)
    card_type = forms.ChoiceField(
        label=_("卡类型"),
        choices=Ticket.CardType.choices,
        required=False,
        error_messages={"invalid_choice": _("卡类型只能是 debit、credit 或 unknown。")},
    )
    response_code = _text(_("应答码"), max_length=2, validators=[response_code_validator])
    rrn = _text(_("参考号（RRN）"), max_length=12, validators=[rrn_validator])
    trace_number = _text(_("凭证号"), max_length=6, validators=[six_digits_validator])
    batch_number = _text(_("批次号"), max_length=6, validators=[six_digits_validator])
    description = forms.CharField(
        label=_("情况说明"),
        required=False,
        max_length=4000,
        error_messages={"max_length": _("最多 %(limit_value)d 个字符（现在 %(show_value)d 个）。")},
    )

    def scrub_value(self, name, value):
        if name == "transaction_time":
            try:
                _api_time(value)
            except (ValidationError, OverflowError, ValueError):
                pass
            else:
                return value  # an ISO 8601 time, not a card number
        return super().scrub_value(name, value)

    def clean_terminal_id(self):
        return self.cleaned_data["terminal_id"].strip().upper()

    def clean_transaction_time(self):
        value = _api_time(self.cleaned_data["transaction_time"])
        validate_transaction_time(value)
        if value > timezone.now() + CLOCK_SKEW:
            raise ValidationError(_("交易时间不能晚于现在。"), code="future")
        return value

    def clean_amount(self):
        field = TicketForm.base_fields["amount"]
        return field.clean(self.cleaned_data["amount"])

    def clean_currency(self):
        value = (self.cleaned_data.get("currency") or "CNY").strip().upper()
        if len(value) != 3 or not value.isalpha() or not value.isascii():
            raise ValidationError(_("币种是 3 位字母代码，例如 CNY。"), code="invalid")
        return value

    def clean_card_number(self):
        return mask_card_field(self.raw_card_value("card_number"))

    def clean_card_type(self):
        return self.cleaned_data.get("card_type") or Ticket.CardType.UNKNOWN

    FIELD_OF_MODEL = {"tid": "terminal_id", "card_masked": "card_number"}

    def add_service_errors(self, error: ValidationError):
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for field, messages in error.message_dict.items():
            name = self.FIELD_OF_MODEL.get(field, field)
            self.add_error(name if name in self.fields else None, messages)

"""Forms of the public knowledge pages (the search box and an article's "was this helpful?"),
and the reviewer's "send back" form of review before publish (knowledge/publishing.py)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from diagnosis.core.forms import CardSafeFormMixin


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("搜索"),
        required=False,
        max_length=200,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("输入应答码（如 51）或问题，如“余额不足”"),
                "autocomplete": "off",
                "enterkeyhint": "search",
            }
        ),
    )

    def clean_q(self):
        return " ".join(self.cleaned_data["q"].split())


class VoteForm(forms.Form):
    HELPFUL_CHOICES = [("yes", _("有帮助")), ("no", _("没帮助"))]

    helpful = forms.ChoiceField(
        label=_("这篇文章对你有帮助吗？"),
        choices=HELPFUL_CHOICES,
        error_messages={"required": _("请选择“有帮助”或“没帮助”。")},
    )
    comment = forms.CharField(
        label=_("补充说明（可选）"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("请不要填写卡号、密码等信息。"),
    )

    @property
    def is_helpful(self) -> bool:
        return self.cleaned_data["helpful"] == "yes"


class SendBackForm(CardSafeFormMixin, forms.Form):
    """What the reviewer tells the author; card numbers are masked as the form is bound."""

    comment = forms.CharField(
        label=_("退回意见"),
        max_length=2000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("退回时请写明原因，作者会看到这条意见。")},
    )

"""Sign-in forms: the login (throttled by django-axes; the admin signs in here too), password
reset, and the two-factor code forms. None of them ever echoes a card number back."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.translation import gettext_lazy as _

from diagnosis.accounts.throttle import ThrottledLoginMixin
from diagnosis.core.forms import CardSafeFormMixin


class LoginForm(CardSafeFormMixin, ThrottledLoginMixin, AuthenticationForm):
    username = forms.CharField(
        label=_("用户名"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )


class CardSafePasswordResetForm(CardSafeFormMixin, PasswordResetForm):
    """Password reset: what was typed is shown again masked."""


class OneTimeCodeForm(forms.Form):
    """A 6-digit code from the authenticator app, or a recovery code."""

    code = forms.CharField(
        label=_("验证码"),
        max_length=32,
        help_text=_(
            "打开身份验证器应用，输入显示的 6 位数字；手机不在身边时，可以输入一个恢复码。"
        ),
        error_messages={"required": _("请输入验证码。")},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "off",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )


class SetupCodeForm(forms.Form):
    code = forms.CharField(
        label=_("应用显示的 6 位验证码"),
        max_length=16,
        error_messages={"required": _("请输入验证码。")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from diagnosis.accounts.throttle import ThrottledLoginMixin
from diagnosis.core.cards import scrub_text


class CardSafeLoginMixin:
    """A card number typed into the user-name box is masked before the form can echo it."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        if self.is_bound and "username" in self.data:
            data = self.data.copy()
            data["username"] = scrub_text(data.get("username") or "")
            self.data = data


class AdminLoginForm(CardSafeLoginMixin, ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's login, throttled like the site's."""


class LoginForm(CardSafeLoginMixin, ThrottledLoginMixin, AuthenticationForm):
    username = forms.CharField(
        label=_("用户名"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )

"""Sign-in pages: the password step (throttled) and the second factor (diagnosis/accounts/
two_factor.py): code entry, authenticator setup, recovery codes, the account security page."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from diagnosis.accounts import two_factor
from diagnosis.accounts.forms import LoginForm, OneTimeCodeForm, SetupCodeForm
from diagnosis.core.ratelimits import address_key, check_rate, rate_setting


class SignInView(auth_views.LoginView):
    """The password step. Users who need a second factor are not logged in yet."""

    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if two_factor.needs_second_factor(user):
            two_factor.start_pending(self.request, user, self.get_success_url())
            target = "two_factor_verify" if two_factor.has_device(user) else "two_factor_setup"
            return redirect(target)
        return super().form_valid(form)


class PasswordResetView(auth_views.PasswordResetView):
    """Reset mail: PASSWORD_RESET_RATE per address and per account (e-mail address)."""

    def form_valid(self, form):
        check_rate(
            self.request,
            group="password-reset",
            key=address_key(self.request),
            rate=rate_setting("PASSWORD_RESET_RATE", "5/h"),
        )
        check_rate(
            self.request,
            group="password-reset",
            key="email:" + (form.cleaned_data.get("email") or "").strip().lower(),
            rate=rate_setting("PASSWORD_RESET_RATE", "5/h"),
        )
        return super().form_valid(form)


def _next_of(request) -> str:
    if request.user.is_authenticated:
        return two_factor.safe_next(request, request.GET.get("next") or request.POST.get("next"))
    return two_factor.pending_next(request)


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    user = two_factor.pending_user(request)
    if user is None:
        messages.info(request, _("请重新输入用户名和密码。"))
        return redirect("login")
    if request.user.is_authenticated and two_factor.is_verified(request):
        return redirect(_next_of(request))
    if not two_factor.has_device(user):
        return redirect("two_factor_setup")
    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = two_factor.verify_code(user, form.cleaned_data["code"])
        if device is not None:
            next_url = _next_of(request)
            two_factor.complete_sign_in(request, user, device)
            if device.name == two_factor.RECOVERY_NAME:
                left = two_factor.recovery_codes_left(user)
                messages.warning(
                    request,
                    _("您用了一个恢复码，还剩 %(left)d 个。请在“账户安全”里生成新的恢复码。")
                    % {"left": left},
                )
            return redirect(next_url)
        if two_factor.throttled(user):
            form.add_error("code", _("错误次数太多，请稍等片刻再试。"))
        else:
            form.add_error("code", _("验证码不正确，或已经用过。请输入应用里现在显示的验证码。"))
    context = {"form": form, "next": request.GET.get("next", ""), "pending_user": user}
    return render(request, "registration/two_factor_verify.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    """Set up an authenticator: QR code and secret, confirmed with a first code."""
    user = two_factor.pending_user(request)
    if user is None:
        messages.info(request, _("请重新输入用户名和密码。"))
        return redirect("login")
    verified = request.user.is_authenticated and two_factor.is_verified(request)
    if two_factor.has_device(user) and not verified:
        # Replacing a device needs the current one first (or an admin's reset).
        return redirect("two_factor_verify")
    device = two_factor.unconfirmed_totp(user) or two_factor.new_totp(user)
    form = SetupCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = "".join(form.cleaned_data["code"].split())
        if device.verify_is_allowed()[0] and device.verify_token(code):
            next_url = _next_of(request)
            codes = two_factor.confirm_totp(device)
            two_factor.complete_sign_in(request, user, device)
            # Sessions signed in elsewhere without this device end (a merchant turning it on).
            two_factor.end_sessions(user, keep=request.session.session_key)
            request.session[two_factor.FRESH_CODES] = codes
            request.session[two_factor.PENDING_NEXT] = next_url
            return redirect("two_factor_recovery_codes")
        form.add_error(
            "code", _("验证码不正确。请确认手机时间准确，然后输入应用里现在显示的验证码。")
        )
    context = {
        "form": form,
        "device": device,
        "qr": two_factor.qr_svg(device, title=_("身份验证器二维码")),
        "secret": two_factor.secret_text(device),
        "required": two_factor.is_required(user),
        "next": request.GET.get("next", ""),
    }
    return render(request, "registration/two_factor_setup.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_recovery_codes(request):
    """Shows freshly made recovery codes once; POST makes new ones (the old ones stop working)."""
    if not two_factor.is_verified(request):
        return redirect("two_factor_verify")
    if request.method == "POST":
        request.session[two_factor.FRESH_CODES] = two_factor.new_recovery_codes(request.user)
        return redirect("two_factor_recovery_codes")
    codes = request.session.pop(two_factor.FRESH_CODES, None)
    if not codes:
        return redirect("two_factor_manage")
    next_url = request.session.pop(two_factor.PENDING_NEXT, None) or reverse("two_factor_manage")
    response = render(
        request,
        "registration/two_factor_recovery_codes.html",
        {"codes": codes, "next": two_factor.safe_next(request, next_url)},
    )
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@login_required
def two_factor_manage(request):
    """Account security: the second factor's state and what can be done about it."""
    user = request.user
    context = {
        "has_device": two_factor.has_device(user),
        "required": two_factor.is_required(user),
        "verified": two_factor.is_verified(request),
        "codes_left": two_factor.recovery_codes_left(user),
        "form": OneTimeCodeForm(),
    }
    return render(request, "registration/two_factor_manage.html", context)


@login_required
@require_POST
def two_factor_disable(request):
    """Merchant users may turn the second factor off again (with a current code)."""
    user = request.user
    if two_factor.is_required(user):
        messages.error(request, _("工作人员账号必须使用两步验证，不能关闭。"))
        return redirect("two_factor_manage")
    form = OneTimeCodeForm(request.POST)
    if form.is_valid() and two_factor.verify_code(user, form.cleaned_data["code"]):
        two_factor.remove_devices(user, end_all_sessions=False)
        request.session.pop("otp_device_id", None)
        messages.success(request, _("两步验证已关闭。"))
        return redirect("two_factor_manage")
    messages.error(request, _("验证码不正确，两步验证没有关闭。"))
    return redirect("two_factor_manage")

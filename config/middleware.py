"""Language negotiation on top of Django's LocaleMiddleware.

Chinese lives at unprefixed URLs and English under /en/ (i18n_patterns with
prefix_default_language=False). Django then always serves Chinese at unprefixed URLs, so a first
visit from an English browser would never see English. This middleware honours Accept-Language
once: a visitor without a language cookie whose browser prefers English is redirected to the same
page under /en/. Choosing a language with the switcher sets the cookie and ends the redirect.
"""

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import is_valid_path
from django.utils import translation
from django.utils.cache import patch_vary_headers


class PreferredLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        unprefixed = translation.get_language_from_path(request.path_info) is None
        if unprefixed and request.method in ("GET", "HEAD"):
            redirect = self._redirect_for(request)
            if redirect is not None:
                return redirect
        response = self.get_response(request)
        if unprefixed:
            patch_vary_headers(response, ("Accept-Language", "Cookie"))
        return response

    def _redirect_for(self, request):
        if settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
            return None
        if not request.META.get("HTTP_ACCEPT_LANGUAGE"):
            return None
        preferred = translation.get_language_from_request(request, check_path=False)
        if preferred == settings.LANGUAGE_CODE:
            return None
        target = f"/{preferred}{request.path_info}"
        urlconf = getattr(request, "urlconf", None)
        with translation.override(preferred):
            if not is_valid_path(target, urlconf):
                return None
        query = request.META.get("QUERY_STRING", "")
        response = HttpResponseRedirect(f"{target}?{query}" if query else target)
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        return response

"""JSON API: GET /api/v1/search?q=… and GET /api/v1/codes/<code> (shapes as in PRODUCT.md).

The language follows config.api.language_of (?lang=, then Accept-Language); URLs in answers are
absolute paths in that language (/en/… for English).
"""

from functools import wraps

from django.http import JsonResponse
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from config.api import json_error, language_of
from knowledge import selectors

MAX_RESULTS = 10


def api_get(view):
    """GET (and HEAD) only, answered in the request's language; other methods get a JSON 405."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        with language_of(request):
            if request.method not in ("GET", "HEAD"):
                response = json_error("method_not_allowed", _("只支持 GET。"), 405)
                response["Allow"] = "GET, HEAD"
                return response
            response = view(request, *args, **kwargs)
            response["Content-Language"] = get_language()
            return response

    return wrapped


def _json(data, status=200):
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


@api_get
def search(request):
    if "q" not in request.GET or not request.GET["q"].strip():
        return json_error(
            "missing_query",
            _("请用 q 参数给出要搜索的内容，例如 ?q=51 或 ?q=余额不足。"),
            400,
            {"q": [_("这个参数是必填的。")]},
        )
    outcome = selectors.article_search(
        query=request.GET["q"], lang=get_language(), limit=MAX_RESULTS
    )
    return _json(
        {
            "query": outcome.query,
            "results": [
                {
                    "title": result.title,
                    "url": result.url,
                    "category": result.category,
                    "response_codes": result.response_codes,
                    "summary": result.summary,
                }
                for result in outcome.results
            ],
        }
    )


@api_get
def code_detail(request, code):
    found = selectors.code_get(code=code)
    if found is None:
        if code.isascii() and code.isalnum() and len(code) <= 4:
            message = _("没有应答码“%(code)s”的记录。") % {"code": code}
        else:
            message = _("应答码是两位数字或字母，例如 51、05、A0。")
        return json_error("not_found", message, 404)
    return _json(
        {
            "code": found.code,
            "meaning": found.meaning,
            "category": found.category.key,
            "who_acts": found.who_acts,
            "retry": found.retry,
            "articles": [
                {
                    "title": article.title,
                    "url": reverse("knowledge:article_detail", args=[article.slug]),
                }
                for article in found.published_articles[: selectors.CODE_ARTICLES]
            ],
        }
    )

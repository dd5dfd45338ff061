"""JSON API of the knowledge base: GET /api/v1/search?q=… and GET /api/v1/codes/<code>.

Shapes as in PRODUCT.md. Answers are in the request's language (config/api.py: ?lang=, then
Accept-Language); URLs in them are absolute paths in that language (/en/… for English).
"""

from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema
from ninja.decorators import decorate_view
from pydantic import Field

from config.api import (
    ApiError,
    errors,
    invalid_parameters,
    one_of,
    without_slash_and_with,
)
from knowledge import models, selectors
from knowledge.taxonomy import CATEGORY_KEYS

router = Router(tags=["knowledge"])

MAX_RESULTS = 10
Category = one_of(CATEGORY_KEYS)


class SearchResult(Schema):
    title: str
    url: str = Field(examples=["/en/codes/51/"])
    category: Category
    response_codes: list[str] = Field(examples=[["51"]])
    summary: str


class SearchResponse(Schema):
    query: str
    results: list[SearchResult] = Field(max_length=MAX_RESULTS)


class ArticleLink(Schema):
    title: str
    url: str = Field(examples=["/articles/insufficient-balance/"])


class ResponseCode(Schema):
    code: str = Field(examples=["51"])
    meaning: str
    category: Category
    who_acts: one_of(models.ResponseCode.WhoActs.values)
    retry: one_of(models.ResponseCode.Retry.values)
    articles: list[ArticleLink]

    @staticmethod
    def resolve_category(code):
        return code.category.key

    @staticmethod
    def resolve_articles(code):
        return [
            {"title": a.title, "url": reverse("knowledge:article_detail", args=[a.slug])}
            for a in code.published_articles[: selectors.CODE_ARTICLES]
        ]


@without_slash_and_with(
    router.get,
    "/search",
    url_name="api_search",
    response={200: SearchResponse, **errors(400)},
    operation_id="searchKnowledge",
    summary="Search articles and response codes",
)
@decorate_view(
    invalid_parameters(
        "missing_query",
        gettext_lazy("请用 q 参数给出要搜索的内容，例如 ?q=51 或 ?q=余额不足。"),
        gettext_lazy("这个参数是必填的。"),
    )
)
def search(
    request,
    q: str = Query(
        ...,
        pattern=r"\S",
        description="What to search for (a code such as 51, or words); blank is refused, a long "
        "query is cut to its first 200 characters.",
        example="余额不足",
    ),
):
    """Chinese (segmented, with colloquial synonyms) and English (stemmed, small typos forgiven)
    queries, or an exact response code. Best first, at most 10. URLs are paths in the answer
    language. A missing or blank `q` is a 400 `missing_query`."""
    return selectors.article_search(query=q, lang=get_language(), limit=MAX_RESULTS)


@without_slash_and_with(
    router.get,
    "/codes/{apicode:code}",
    url_name="api_code_detail",
    response={200: ResponseCode, **errors(404)},
    operation_id="getResponseCode",
    summary="One response code",
)
def code_detail(request, code: str = Path(..., example="51")):
    """Case-insensitive (`a0` is `A0`); an unknown code is a 404 `not_found`."""
    found = selectors.code_get(code=code)
    if found is None:
        if code.isascii() and code.isalnum() and len(code) <= 4:
            message = _("没有应答码“%(code)s”的记录。") % {"code": code}
        else:
            message = _("应答码是两位数字或字母，例如 51、05、A0。")
        raise ApiError("not_found", message, 404)
    return found

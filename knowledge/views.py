"""Public knowledge pages: home, search, codes, categories, articles, votes, announcements.

Views are thin: they parse input, call selectors/services, render. Every page works without
JavaScript; htmx requests get the `#results` / `#vote` partial of the same template.
"""

import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from config.pagecache import public_page
from diagnosis.core import permissions
from knowledge import selectors, services
from knowledge.forms import SearchForm, VoteForm
from knowledge.gaps import services as gaps
from knowledge.models import Announcement, Article

VOTER_COOKIE = "dd_voter"
VOTER_COOKIE_AGE = 60 * 60 * 24 * 365 * 2
SEARCH_PAGE_SIZE = 10
SEARCH_MAX_RESULTS = 50
LIVE_RESULTS = 8
CATEGORY_PAGE_SIZE = 20


def record_decline_url(*, code=None, category=None) -> str:
    """The "record this decline" link: the ticket form, prefilled with code and category."""
    params = {key: value for key, value in (("code", code), ("category", category)) if value}
    url = reverse("diagnosis:ticket_new")
    return f"{url}?{urlencode(params)}" if params else url


def _count_lookup(request, code):
    if request.method == "GET":
        services.code_record_lookup(code=code)


@require_safe
@public_page
def home(request):
    return render(
        request,
        "knowledge/home.html",
        {
            "form": SearchForm(),
            "categories": selectors.category_list(),
            "popular_codes": selectors.codes_most_looked_up(limit=12),
        },
    )


@require_safe
@vary_on_headers("HX-Request")
def search(request):
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    if not query and not form.is_valid():
        query = selectors.normalize_query(request.GET.get("q", ""))
    live = bool(request.htmx)
    if query and not live:
        code = selectors.code_exact(query=query)
        if code:
            return redirect("knowledge:code_detail", code=code)
        if _code_like(query):
            gaps.unknown_code_record(code=query, source="search")
    outcome = selectors.article_search(
        query=query, lang=get_language(), limit=LIVE_RESULTS if live else SEARCH_MAX_RESULTS
    )
    if query and not live and request.GET.get("page") in (None, "", "1"):
        # One count per search submitted, not per page of its results; live results (htmx, as
        # the merchant types) are not counted, or every half-typed prefix would be a "gap".
        gaps.search_record(query=query, lang=get_language(), results=len(outcome.results))
    page = Paginator(outcome.results, SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "query": query,
        "outcome": outcome,
        "page": page,
        "live": live,
        "wizard_url": reverse("diagnosis:wizard"),
        "record_url": record_decline_url(code=_code_like(query)),
        "open_base": _open_base(query),
    }
    if not query and not live:
        context["categories"] = selectors.category_list()
    template = "knowledge/search.html#results" if live else "knowledge/search.html"
    return render(request, template, context)


def _open_base(query: str) -> str:
    """The start of a result's link: through knowledge:search_open, which counts the opening."""
    if not query:
        return ""
    return f"{reverse('knowledge:search_open')}?{urlencode({'q': query})}&to="


@require_safe
def search_open(request):
    """A search result opened: count it for the content-gap page, then go to the result.

    `to` names the result (`a:<slug>` or `c:<code>`), never a URL, so this is no open redirect.
    """
    target = request.GET.get("to", "")
    kind, _sep, key = target.partition(":")
    if kind == "a" and selectors.SLUG_RE.match(key):
        url = reverse("knowledge:article_detail", args=[key])
    elif kind == "c" and selectors.CODE_RE.match(key):
        url = reverse("knowledge:code_detail", args=[key.upper()])
    else:
        return redirect("knowledge:search")
    query = selectors.normalize_query(request.GET.get("q", ""))
    if query:
        gaps.search_result_opened(query=query, lang=get_language())
    return redirect(url)


def _code_like(query: str) -> str | None:
    query = (query or "").strip().upper()
    return query if selectors.CODE_RE.match(query) else None


@require_safe
@public_page
def code_list(request):
    return render(request, "knowledge/code_list.html", {"categories": selectors.code_list()})


@require_safe
@public_page(on_hit=_count_lookup)
def code_detail(request, code):
    found = selectors.code_get(code=code)
    if found is None:
        gaps.unknown_code_record(code=code, source="code_page")
        return render(
            request,
            "knowledge/code_not_found.html",
            {
                "code": code[:8],
                "suggestions": selectors.code_suggestions(code=code),
                "form": SearchForm(initial={"q": code[:8]}),
                "record_url": record_decline_url(code=_code_like(code)),
                "wizard_url": reverse("diagnosis:wizard"),
                "wizard_code_url": (
                    f"{reverse('diagnosis:wizard')}?{urlencode({'code': _code_like(code)})}"
                    if _code_like(code)
                    else ""
                ),
            },
            status=404,
        )
    if found.code != code:
        return redirect(found.get_absolute_url(), permanent=True)
    if request.method == "GET":
        services.code_record_lookup(code=found)
    return render(
        request,
        "knowledge/code_detail.html",
        {
            "code": found,
            "articles": found.published_articles[: selectors.CODE_ARTICLES],
            "more_articles_url": (
                f"{reverse('knowledge:search')}?{urlencode({'q': found.meaning})}"
                if len(found.published_articles) > selectors.CODE_ARTICLES
                else ""
            ),
            "record_url": record_decline_url(code=found.code, category=found.category.key),
            "wizard_url": reverse("diagnosis:wizard"),
            "form": SearchForm(),
        },
    )


@require_safe
@public_page
def category_detail(request, key):
    category = get_object_or_404(selectors.category_queryset(), key=key)
    articles = Paginator(selectors.category_articles(category=category), CATEGORY_PAGE_SIZE)
    return render(
        request,
        "knowledge/category_detail.html",
        {
            "category": category,
            "page": articles.get_page(request.GET.get("page")),
            "codes": selectors.category_codes(category=category),
            "record_url": record_decline_url(category=category.key),
            "wizard_url": reverse("diagnosis:wizard"),
        },
    )


def _voter_key(request):
    if request.user.is_authenticated:
        return services.voter_key(user=request.user), None
    visitor = request.COOKIES.get(VOTER_COOKIE, "")
    if not (16 <= len(visitor) <= 64) or not visitor.replace("-", "").replace("_", "").isalnum():
        visitor = ""
    if not visitor:
        return None, secrets.token_urlsafe(16)
    return services.voter_key(visitor_id=visitor), None


def _set_voter_cookie(response, visitor):
    if visitor:
        response.set_cookie(
            VOTER_COOKIE,
            visitor,
            max_age=VOTER_COOKIE_AGE,
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return response


def _article_context(request, article, *, vote_form=None, vote_state=None):
    primary_code = next(iter(article.codes.all()), None)
    key, _new_visitor = _voter_key(request)
    if vote_state is None:
        voted = key is not None and selectors.article_has_vote(article=article, key=key)
        vote_state = "voted" if voted else "open"
    return {
        "article": article,
        "codes": list(article.codes.all()),
        "related": article.published_related,
        "preview": not article.is_published,
        "can_edit": permissions.can_edit_knowledge(request.user),
        "vote_form": vote_form or VoteForm(),
        "vote_state": vote_state,
        "record_url": record_decline_url(
            code=primary_code.code if primary_code else None, category=article.category.key
        ),
        "wizard_url": reverse("diagnosis:wizard"),
    }


@require_safe
@public_page(skip_cookies=(VOTER_COOKIE,))
def article_detail(request, slug):
    article = selectors.article_get(
        slug=slug, include_drafts=permissions.can_preview_articles(request.user)
    )
    if article is None:
        raise Http404
    return render(request, "knowledge/article_detail.html", _article_context(request, article))


@require_POST
def article_vote(request, slug):
    article = get_object_or_404(Article.objects.published().only("pk", "slug"), slug=slug)
    form = VoteForm(request.POST)
    key, new_visitor = _voter_key(request)
    if new_visitor:
        key = services.voter_key(visitor_id=new_visitor)
    status = 200
    if services.vote_rate_limited(request):
        state, status = "limited", 429
    elif not form.is_valid():
        state, status = "invalid", 400
    else:
        outcome = services.article_vote(
            article=article,
            key=key,
            helpful=form.is_helpful,
            comment=form.cleaned_data["comment"],
        )
        state = "thanks" if outcome.recorded else "voted"
    if request.htmx:
        # htmx swaps only 2xx answers; the state is in the fragment itself.
        response = render(
            request,
            "knowledge/article_detail.html#vote",
            {"article": article, "vote_form": form, "vote_state": state},
        )
        return _set_voter_cookie(response, new_visitor)
    if state in ("thanks", "voted"):
        if state == "thanks":
            messages.success(request, _("谢谢你的反馈！"))
        else:
            messages.info(request, _("你已经评价过这篇文章了。"))
        response = redirect(f"{article.get_absolute_url()}#feedback")
        return _set_voter_cookie(response, new_visitor)
    full = selectors.article_get(slug=slug)
    context = _article_context(request, full, vote_form=form, vote_state=state)
    response = render(request, "knowledge/article_detail.html", context, status=status)
    return _set_voter_cookie(response, new_visitor)


@require_safe
def announcement_list(request):
    active, upcoming, past = selectors.announcement_archive()
    page = Paginator(past, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "knowledge/announcement_list.html",
        {"active": active, "upcoming": upcoming, "page": page},
    )


@require_safe
def announcement_detail(request, pk):
    announcement = get_object_or_404(Announcement.objects.select_related("bank"), pk=pk)
    return render(request, "knowledge/announcement_detail.html", {"announcement": announcement})

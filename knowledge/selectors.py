"""Reads: search, codes, categories, articles, announcements. Keyword-only arguments."""

import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.cache import cache
from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone, translation

from knowledge import search
from knowledge.models import Announcement, Article, ArticleVote, Category, ResponseCode
from knowledge.rendering import render_plain
from knowledge.search.highlight import highlight, shorten
from knowledge.signals import ANNOUNCEMENTS_KEY

CODE_RE = re.compile(r"^[0-9A-Za-z]{2}$")
SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]{1,80}$")
# Shown first on the home page while nobody has looked anything up yet: the declines a
# merchant meets most often.
COMMON_CODES = ["51", "55", "05", "14", "54", "61", "75", "91", "96", "98", "A0", "97"]
ANNOUNCEMENT_CACHE_SECONDS = 60
ANNOUNCEMENT_LOOKAHEAD = timedelta(minutes=10)


def lang_of(lang: str | None) -> str:
    """'en' or 'zh' from a language code ('en', 'en-us', 'zh-hans', None → current)."""
    lang = lang or translation.get_language() or "zh-hans"
    return "en" if lang.lower().startswith("en") else "zh"


def django_language(lang: str) -> str:
    return "en" if lang_of(lang) == "en" else "zh-hans"


# --- search ----------------------------------------------------------------------------------
@dataclass
class SearchResult:
    kind: str  # "article" or "code"
    key: str
    title: str
    url: str
    category: str
    category_name: str
    response_codes: list
    summary: str
    title_html: str = ""
    heading_html: str = ""  # the title without the code prefix (codes show a code chip)
    summary_html: str = ""
    score: float = 0.0


@dataclass
class SearchOutcome:
    query: str
    results: list = field(default_factory=list)
    exact_code: str | None = None


def normalize_query(query) -> str:
    return " ".join(str(query or "").split())[: search.index.MAX_QUERY_CHARS]


def code_exact(*, query) -> str | None:
    """The response code when the query is exactly one (`a0` → `A0`), else None."""
    query = normalize_query(query)
    if not CODE_RE.match(query):
        return None
    position = search.get_index().by_code.get(query.lower())
    return None if position is None else search.get_index().docs[position].key


def article_search(*, query, lang, limit=10) -> SearchOutcome:
    """Articles and response codes for a query, best first, in the given language.

    No database query unless the index has to be (re)built after a content change.
    """
    query = normalize_query(query)
    outcome = SearchOutcome(query=query)
    if not query:
        return outcome
    lang = lang_of(lang)
    found = search.get_index().search(query, limit=limit)
    outcome.exact_code = found.exact_code
    with translation.override(django_language(lang)):
        for hit in found.hits:
            doc = hit.doc
            if doc.kind == "code":
                url = reverse("knowledge:code_detail", args=[doc.key])
            else:
                url = reverse("knowledge:article_detail", args=[doc.key])
            title = doc.title[lang] or doc.title["zh"]
            summary = shorten(render_plain(doc.summary[lang] or doc.summary["zh"]))
            outcome.results.append(
                SearchResult(
                    kind=doc.kind,
                    key=doc.key,
                    title=title,
                    url=url,
                    category=doc.category,
                    category_name=doc.category_name[lang] or doc.category_name["zh"],
                    response_codes=list(doc.codes),
                    summary=summary,
                    title_html=highlight(title, found.highlight_cjk, found.highlight_latin),
                    heading_html=highlight(
                        title.split(" · ", 1)[-1], found.highlight_cjk, found.highlight_latin
                    ),
                    summary_html=highlight(summary, found.highlight_cjk, found.highlight_latin),
                    score=hit.score,
                )
            )
    return outcome


# --- codes -----------------------------------------------------------------------------------
CODE_ARTICLES = 8  # articles listed on a code page; the rest are one search away


def code_get(*, code) -> ResponseCode | None:
    """A response code with its category and its most helpful published articles (2 queries).

    `published_articles` holds at most CODE_ARTICLES + 1 articles (the extra one only tells the
    page that there are more), however many articles mention the code.
    """
    code = (code or "").strip().upper()
    if not code or len(code) > 4:
        return None
    # The article written for this code comes first: the fewer codes an article covers, the
    # more specific it is; then the most helpful.
    links = Article.codes.through.objects.filter(article_id=OuterRef("pk"))
    code_count = links.order_by().values("article_id").annotate(n=Count("pk")).values("n")
    articles = (
        Article.objects.published()
        .select_related("category")
        .annotate(code_count=Subquery(code_count, output_field=IntegerField()))
        .order_by("code_count", "-helpful_yes", "helpful_no", "pk")[: CODE_ARTICLES + 1]
    )
    return (
        ResponseCode.objects.select_related("category")
        .prefetch_related(Prefetch("articles", queryset=articles, to_attr="published_articles"))
        .filter(code=code)
        .first()
    )


def code_suggestions(*, code, limit=6) -> list[ResponseCode]:
    """Codes that look like an unknown one (same first or last character), decline codes first."""
    code = (code or "").strip().upper()[:4]
    if not code:
        return list(ResponseCode.objects.most_looked_up(limit=limit))
    similar = Q(code__startswith=code[0]) | Q(code__endswith=code[-1])
    return list(
        ResponseCode.objects.filter(similar)
        .select_related("category")
        .order_by("-category__is_decline", "code")[:limit]
    )


def codes_most_looked_up(*, limit=12) -> list[ResponseCode]:
    """Most looked-up decline codes; well-known ones first while the counts are equal."""
    rank = Case(
        *[When(code=code, then=Value(i)) for i, code in enumerate(COMMON_CODES)],
        default=Value(len(COMMON_CODES)),
        output_field=IntegerField(),
    )
    return list(
        ResponseCode.objects.filter(category__is_decline=True).order_by("-lookups", rank, "code")[
            :limit
        ]
    )


def code_list() -> list[Category]:
    """Every category with its codes (2 queries), for the code index page."""
    return list(
        Category.objects.prefetch_related(
            Prefetch("codes", queryset=ResponseCode.objects.order_by("code"))
        )
    )


# --- categories and articles -----------------------------------------------------------------
def category_list() -> list[Category]:
    """Categories with their number of published articles and codes (1 query).

    Two correlated COUNT subqueries, not JOIN + COUNT(DISTINCT): a join of articles × codes
    grows with the product of both and made the home page slow at 10,000 articles.
    """
    published = (
        Article.objects.published()
        .filter(category=OuterRef("pk"))
        .order_by()
        .values("category")
        .annotate(n=Count("pk"))
        .values("n")
    )
    codes = (
        ResponseCode.objects.filter(category=OuterRef("pk"))
        .order_by()
        .values("category")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return list(
        Category.objects.annotate(
            article_count=Coalesce(Subquery(published, output_field=IntegerField()), 0),
            code_count=Coalesce(Subquery(codes, output_field=IntegerField()), 0),
        ).order_by("position", "key")
    )


def category_queryset():
    return Category.objects.all()


def category_articles(*, category):
    """Published articles of a category with their codes (paginate it: 1 + 1 + 1 queries)."""
    return (
        Article.objects.published()
        .filter(category=category)
        .prefetch_related(Prefetch("codes", queryset=ResponseCode.objects.order_by("code")))
        .order_by("slug")
    )


def category_codes(*, category) -> list[ResponseCode]:
    return list(category.codes.order_by("code"))


def article_get(*, slug, include_drafts=False) -> Article | None:
    """An article with category, codes and published related articles (3 queries)."""
    articles = Article.objects.all() if include_drafts else Article.objects.published()
    return (
        articles.select_related("category")
        .prefetch_related(
            Prefetch("codes", queryset=ResponseCode.objects.order_by("code")),
            Prefetch(
                "related",
                queryset=Article.objects.published().select_related("category"),
                to_attr="published_related",
            ),
        )
        .filter(slug=slug)
        .first()
    )


def article_has_vote(*, article, key: str) -> bool:
    return ArticleVote.objects.filter(article=article, voter_key=key).exists()


# --- announcements ---------------------------------------------------------------------------
def _announcement_pool() -> list[Announcement]:
    """Announcements active now or starting within ANNOUNCEMENT_LOOKAHEAD (cached, 1 query)."""
    pool = cache.get(ANNOUNCEMENTS_KEY)
    if pool is None:
        now = timezone.now()
        pool = list(
            Announcement.objects.select_related("bank")
            .filter(starts_at__lte=now + ANNOUNCEMENT_LOOKAHEAD)
            .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        )
        cache.set(ANNOUNCEMENTS_KEY, pool, ANNOUNCEMENT_CACHE_SECONDS)
    return pool


SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def announcement_active(*, bank=None, now=None, pool=None) -> list[Announcement]:
    """Active announcements, most severe first.

    bank=None: every active announcement (public pages do not know the visitor's bank);
    bank=<Bank>: the ones for that bank plus the ones for all banks.
    pool: the cached pool when the caller already read it (config.pagecache).
    """
    now = now or timezone.now()
    found = [
        a
        for a in (_announcement_pool() if pool is None else pool)
        if a.starts_at <= now
        and (a.ends_at is None or a.ends_at > now)
        and (bank is None or a.bank_id is None or a.bank_id == bank.pk)
    ]
    found.sort(key=lambda a: (SEVERITY_ORDER.get(a.severity, 9), -a.starts_at.timestamp()))
    return found


def announcement_archive(*, now=None):
    """(active, upcoming, past queryset) for the archive page."""
    now = now or timezone.now()
    base = Announcement.objects.select_related("bank")
    active = list(base.active(now))
    upcoming = list(base.filter(starts_at__gt=now).order_by("starts_at"))
    past = base.filter(ends_at__lte=now).order_by("-ends_at")
    return active, upcoming, past

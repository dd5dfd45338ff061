"""The synonym editor's test box: how a query is analysed and what it finds now."""

from dataclasses import dataclass, field

from knowledge import search
from knowledge.search import text as T


@dataclass
class Tryout:
    query: str
    words: list = field(default_factory=list)  # the query's own words (typos fixed)
    synonyms: list = field(default_factory=list)  # phrases added by synonym groups
    terms: list = field(default_factory=list)  # [(term, weight)], strongest first
    results: list = field(default_factory=list)  # SearchResult, best first
    stale: bool = False  # the index is still being rebuilt after an edit


def query_tryout(*, query: str, lang: str, limit: int = 10) -> Tryout:
    from knowledge.selectors import article_search, normalize_query

    query = normalize_query(query)
    result = Tryout(query=query)
    if not query:
        return result
    index = search.get_index()
    weights, query_key, sequence = index.query_terms(query)
    table = index.synonyms
    result.words = [w for w in sequence if not w.startswith(T.BIGRAM)]
    result.synonyms = table.expansions(query_key)
    result.terms = sorted(
        ((term.removeprefix(T.BIGRAM), round(weight, 2)) for term, weight in weights.items()),
        key=lambda item: (-item[1], item[0]),
    )[:30]
    result.results = article_search(query=query, lang=lang, limit=limit).results
    result.stale = index.token != search.current_version()
    return result

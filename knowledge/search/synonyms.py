"""Colloquial phrasings → the words our articles and codes use.

Each group is a set of phrases that mean the same thing to a merchant at the counter. When a
query contains any phrase of a group (as a substring for Chinese, as whole words for English),
the other phrases of the group are added to the query with a lower weight. Keep groups narrow:
a group that is too broad pulls in unrelated articles.

The groups are content, not code: shipped in knowledge/content/synonyms.json, loaded into
`SynonymGroup` rows by `load_knowledge` (editors' changes are kept, config/content_merge.py) and
edited in the admin. An edit is a new content version: the background rebuild reads the rows
into the index it builds (knowledge.search.load_index), so every process switches to the new
groups together with the index; an index built without the database uses the shipped file.
"""

import json
from pathlib import Path

from knowledge.bilingual import clean_phrases  # noqa: F401 - the one rule, shared with the model

SYNONYMS_FILE = Path(__file__).resolve().parent.parent / "content" / "synonyms.json"
LANGS = ("zh", "en")


def read_groups(path: Path = SYNONYMS_FILE) -> list[dict]:
    """[{"key", "lang", "phrases": [...]}] from a synonyms file ([] when there is none)."""
    if not path.exists():
        return []
    return json.loads(path.read_text(encoding="utf-8"))


# The shipped groups, as lists of phrases (tests and the fallback before the first load).
SYNONYM_GROUPS: list[list[str]] = [group["phrases"] for group in read_groups()]

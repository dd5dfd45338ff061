"""Bilingual model fields: `<name>_zh` and `<name>_en` columns, read in the active language.

Knowledge content is edited as data (articles, codes, wizard questions), not through gettext:
each translatable attribute has a Chinese and an English column, and `localized(obj, name)`
returns the one for the active language (falling back to Chinese if the English one is empty).
"""

from django.utils.translation import get_language

LANGS = ("zh", "en")


def current_lang() -> str:
    """'en' for English, 'zh' for everything else (Chinese is the default language)."""
    return "en" if (get_language() or "").startswith("en") else "zh"


def localized(obj, name: str, lang: str | None = None) -> str:
    lang = lang or current_lang()
    value = getattr(obj, f"{name}_{lang}", "")
    if not value and lang != "zh":
        value = getattr(obj, f"{name}_zh", "")
    return value


def lines(text: str) -> list[str]:
    """A one-item-per-line text field as a list (blank lines dropped)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def clean_phrases(text_or_list) -> list[str]:
    """Phrases one per line (or a list): spaces collapsed, empty lines and repeats dropped."""
    items = text_or_list.splitlines() if isinstance(text_or_list, str) else text_or_list
    seen, phrases = set(), []
    for item in items:
        phrase = " ".join(str(item).split())
        if phrase and phrase.lower() not in seen:
            seen.add(phrase.lower())
            phrases.append(phrase)
    return phrases


class BilingualMixin:
    """`obj.tr("title")` reads `title_zh` or `title_en` for the active language."""

    def tr(self, name: str) -> str:
        return localized(self, name)

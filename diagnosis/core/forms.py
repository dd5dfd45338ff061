"""Form rules shared by every feature: a bound form never echoes a card number.

`CardSafeFormMixin` scrubs the submitted data as the form is bound, before anything (widgets
re-displaying what was typed, error messages quoting a value) can echo it. Storage is protected
separately (diagnosis.core.scrubbed_fields); this is about what a re-displayed form shows.

- Every text value is scrubbed (diagnosis.core.cards.scrub_text), except passwords (fields with
  a PasswordInput widget, which are never re-displayed anyway and must reach the password check
  as typed) and fields a form lists in `scrub_exempt`.
- Card fields (`card_fields`) show their masked form, or nothing when what was typed cannot be
  read as a card; they are validated from what was really typed, kept only in memory
  (`raw_card_value`), so an unreadable entry is an error, never silently dropped.
- A value that is valid for a date, time or number field is a date, time or number, and is kept
  as typed (a datetime with microseconds can look like a run of digits); anything else typed
  there is scrubbed like free text.
- A form can change the rule for one field by overriding `scrub_value(name, value)` (the desk's
  MID filter keeps a well-formed 15-digit MID; the API keeps an ISO 8601 transaction time).

Works with any form signature (`Form(data, files)`, `AuthenticationForm(request, data)`).
"""

from django import forms
from django.core.exceptions import ValidationError

from diagnosis.core.cards import mask_card_field, scrub_text

# Nothing legitimate typed into a form is this long (form fields stop at a few thousand
# characters); a longer value is cut before scrubbing so a huge hostile POST costs no time. It
# still fails the field's max_length check.
MAX_SCRUBBED_LENGTH = 20_000


TYPED_FIELDS = (
    forms.DateField,
    forms.DateTimeField,
    forms.TimeField,
    forms.DecimalField,
    forms.IntegerField,
    forms.FloatField,
)


def safe_card_display(value: str) -> str:
    """What a card field may show again: its masked form, or nothing if it cannot be masked."""
    try:
        return mask_card_field(value)
    except ValidationError:
        digits = sum(char.isdecimal() for char in value or "")
        # Anything with more digits than a last-4 could be (part of) a card number: drop it.
        return "" if digits > 4 else scrub_text(value)


class CardSafeFormMixin:
    card_fields: tuple[str, ...] = ()
    scrub_exempt: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._raw_cards = {}
        if self.is_bound and self.data is not None:
            self._raw_cards = {
                name: self.data.get(name)
                for name in self.card_fields
                if isinstance(self.data.get(name), str)
            }
            self.data = self._scrubbed(self.data)

    def raw_card_value(self, name) -> str:
        return self._raw_cards.get(name) or ""

    def _exempt(self, name) -> bool:
        if name in self.scrub_exempt:
            return True
        field = self.fields.get(name)
        return field is not None and isinstance(field.widget, forms.PasswordInput)

    def _scrubbed(self, data):
        if hasattr(data, "lists"):  # QueryDict
            clean = data.copy()
            for key, values in data.lists():
                clean.setlist(key, [self._scrub(key, value) for value in values])
            return clean
        return {key: self._scrub(key, value) for key, value in data.items()}

    def _scrub(self, name, value):
        if not isinstance(value, str) or self._exempt(name):
            return value
        if name in self.card_fields:
            return safe_card_display(value[:MAX_SCRUBBED_LENGTH])
        field = self.fields.get(name)
        if isinstance(field, TYPED_FIELDS) and len(value) < 100:
            try:
                field.clean(value)
            except ValidationError:
                pass
            else:
                return value
        return self.scrub_value(name, value[:MAX_SCRUBBED_LENGTH])

    def scrub_value(self, name, value):
        return scrub_text(value)

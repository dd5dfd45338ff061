"""The content-gap page's date range."""

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from diagnosis.core.forms import CardSafeFormMixin

EARLIEST = datetime.date(2000, 1, 1)
LATEST = datetime.date(2099, 12, 31)


class GapRangeForm(CardSafeFormMixin, forms.Form):
    start = forms.DateField(label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("结束日期"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        for name, value in (("start", start), ("end", end)):
            if value is not None and not (EARLIEST <= value <= LATEST):
                self.add_error(name, _("日期须在 2000-01-01 至 2099-12-31 之间。"))
        if start and end and start > end:
            self.add_error("end", _("结束日期不能早于开始日期。"))
        return cleaned

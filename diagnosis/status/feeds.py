"""Atom feed of the status page (Django's syndication framework): incidents of the last 30 days
and announced maintenance windows, in the language of the URL (/status/feed/, /en/status/feed/).
"""

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from diagnosis.status import selectors


class StatusFeed(Feed):
    feed_type = Atom1Feed

    def title(self):
        return _("DeclineDesk 银行状态")

    def subtitle(self):
        return _("收单行故障与维护窗口")

    def link(self):
        return reverse("diagnosis:status")

    def items(self):
        now = timezone.now()
        entries = [("incident", i, i.changed_at or i.detected_at) for i in
                   selectors.recent_incidents(now=now)]  # fmt: skip
        entries += [("window", a, a.created_at) for a in selectors.maintenance_windows(now=now)]
        return sorted(entries, key=lambda entry: entry[2], reverse=True)

    def item_title(self, item):
        kind, obj, _when = item
        if kind == "incident":
            return _("%(bank)s：%(status)s（%(start)s 起）") % {
                "bank": obj.acquirer.name,
                "status": obj.get_status_display(),
                "start": timezone.localtime(obj.started_at).strftime("%Y-%m-%d %H:%M"),
            }
        return _("维护窗口：%(title)s（%(window)s）") % {
            "title": obj.title,
            "window": obj.window_text,
        }

    def item_description(self, item):
        kind, obj, _when = item
        if kind == "incident":
            return _("%(count)d 家商户报告了交易拒绝。") % {"count": obj.merchant_count}
        return obj.body

    def item_link(self, item):
        kind, obj, _when = item
        anchor = f"#incident-{obj.pk}" if kind == "incident" else f"#window-{obj.pk}"
        return reverse("diagnosis:status") + anchor

    def item_guid(self, item):
        kind, obj, _when = item
        return f"declinedesk:status:{kind}:{obj.pk}"

    item_guid_is_permalink = False

    def item_updateddate(self, item):
        return item[2]

    def item_pubdate(self, item):
        return item[2]

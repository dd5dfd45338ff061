"""Template context for every page: the navigation bar, filtered by what the user may see."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from diagnosis.core import permissions

# (url name, label, who may see it). Order is the order in the navigation bar.
NAVIGATION = [
    ("knowledge:home", _("知识库"), lambda user: True),
    ("knowledge:code_list", _("应答码大全"), lambda user: True),
    ("diagnosis:wizard", _("故障排查"), lambda user: True),
    ("diagnosis:ticket_list", _("我的工单"), lambda user: permissions.can_record_tickets(user)),
    ("diagnosis:desk", _("工作台"), lambda user: permissions.can_use_desk(user)),
    ("admin:index", _("内容管理"), lambda user: permissions.can_edit_knowledge(user)),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None:
        return {}
    path = request.path
    items = []
    for name, label, allowed in NAVIGATION:
        if not allowed(user):
            continue
        url = reverse(name)
        current = path == url if name == "knowledge:home" else path.startswith(url)
        items.append({"url": url, "label": label, "current": current})
    return {"nav_items": items}

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from diagnosis import permissions

# (url name, label, who may see it). Order is the order in the navigation bar.
NAVIGATION = [
    ("knowledge:home", _("知识库"), lambda user: True),
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

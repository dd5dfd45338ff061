"""Who may see and do what. Every view and API call asks here; no hand-written checks in views."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from diagnosis.roles import KNOWLEDGE_EDITORS, SUPPORT_AGENTS


def _in_group(user, name: str) -> bool:
    if not user.is_authenticated:
        return False
    cache = getattr(user, "_declinedesk_groups", None)
    if cache is None:
        cache = set(user.groups.values_list("name", flat=True))
        user._declinedesk_groups = cache
    return name in cache


def is_agent(user) -> bool:
    return user.is_authenticated and (user.is_superuser or _in_group(user, SUPPORT_AGENTS))


def is_editor(user) -> bool:
    return user.is_authenticated and (user.is_superuser or _in_group(user, KNOWLEDGE_EDITORS))


def is_merchant_user(user) -> bool:
    return user.is_authenticated and user.merchant_id is not None


def can_use_desk(user) -> bool:
    return is_agent(user)


def can_edit_knowledge(user) -> bool:
    return is_editor(user) and user.is_staff


def can_record_tickets(user) -> bool:
    return is_merchant_user(user)


def role_required(check):
    """View decorator: anonymous users go to log in; logged-in users without the role get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator

"""Who may see and do what. Every view and API call asks here; no hand-written checks in views."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from diagnosis.core.roles import KNOWLEDGE_EDITORS, SUPPORT_AGENTS


def _in_group(user, name: str) -> bool:
    if not user.is_authenticated:
        return False
    cache = getattr(user, "_declinedesk_groups", None)
    if cache is None:
        prefetched = getattr(user, "_prefetched_objects_cache", {}).get("groups")
        if prefetched is not None:
            cache = {group.name for group in prefetched}
        else:
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


# --- Agents' desk and bank escalations (desk helper) ---------------------------------------------


def can_work_desk_ticket(user, ticket) -> bool:
    """Agents (and superusers) work every ticket from the desk: reply, note, assign, set status."""
    return can_use_desk(user)


def can_manage_escalations(user) -> bool:
    """Create, send and export escalation batches; merchants never reach them."""
    return can_use_desk(user)


def can_view_escalation(user, batch) -> bool:
    return can_manage_escalations(user)


def can_save_desk_views(user) -> bool:
    """Save queue filters as named views (private, or shared with every agent)."""
    return can_use_desk(user)


def can_delete_desk_view(user, view) -> bool:
    """A saved view is deleted by its owner, or by a superuser (a shared view nobody wants)."""
    return can_use_desk(user) and (view.owner_id == user.pk or user.is_superuser)


def can_use_agent_api(user) -> bool:
    """The agents' API (diagnosis/desk/api.py), with a staff token: agents only, never merchants."""
    return user.is_active and can_use_desk(user) and not is_merchant_user(user)


def can_manage_staff_api_tokens(user) -> bool:
    """Agents create and revoke their own staff API tokens on their profile page."""
    return can_use_agent_api(user)


# --- Tickets -------------------------------------------------------------------------------------
# Merchant users see only their own merchant's tickets (anything else is a 404, not a 403, so
# ticket numbers of other merchants cannot be probed); agents see every ticket. Internal notes and
# their attachments are for agents only.


def ticket_role(user, ticket) -> str | None:
    """The workflow role `user` has on `ticket`: "agent", "merchant" or None."""
    from diagnosis.tickets import workflow

    if is_agent(user):
        return workflow.AGENT
    if is_merchant_user(user) and user.merchant_id == ticket.merchant_id:
        return workflow.MERCHANT
    return None


def visible_tickets(user, queryset=None):
    """The tickets `user` may see (a filtered queryset; empty for anyone without a role)."""
    from diagnosis.models import Ticket

    queryset = Ticket.objects.all() if queryset is None else queryset
    if is_agent(user):
        return queryset
    if is_merchant_user(user):
        return queryset.filter(merchant_id=user.merchant_id)
    return queryset.none()


def can_view_ticket(user, ticket) -> bool:
    return ticket_role(user, ticket) is not None


def can_see_internal_notes(user) -> bool:
    return is_agent(user)


def can_reply_ticket(user, ticket) -> bool:
    """Agents always; the merchant while the ticket is not resolved or closed (reopen first)."""
    from diagnosis.tickets import workflow

    role = ticket_role(user, ticket)
    if role == workflow.AGENT:
        return True
    return role == workflow.MERCHANT and ticket.status not in workflow.DONE_STATUSES


def can_add_internal_note(user, ticket) -> bool:
    return is_agent(user) and can_view_ticket(user, ticket)


def can_change_ticket_status(user, ticket, status, *, now=None) -> bool:
    from diagnosis.tickets import workflow

    return workflow.can_transition(ticket, ticket_role(user, ticket), status, now=now)


def ticket_status_choices(user, ticket, *, now=None) -> list[str]:
    """Statuses `user` may move `ticket` to now (for forms and buttons)."""
    from diagnosis.tickets import workflow

    return workflow.allowed_transitions(ticket, ticket_role(user, ticket), now=now)


def can_close_ticket(user, ticket, *, now=None) -> bool:
    return can_change_ticket_status(user, ticket, "closed", now=now)


def can_reopen_ticket(user, ticket, *, now=None) -> bool:
    from diagnosis.tickets import workflow

    return ticket.status in workflow.DONE_STATUSES and can_change_ticket_status(
        user, ticket, "in_progress", now=now
    )


def can_assign_tickets(user) -> bool:
    return is_agent(user)


def can_be_assigned(user) -> bool:
    return user is not None and user.is_active and is_agent(user)


def can_set_ticket_priority(user) -> bool:
    return is_agent(user)


def can_view_attachment(user, attachment) -> bool:
    """Only who may see the ticket; an internal note's attachment only agents."""
    if not can_view_ticket(user, attachment.ticket):
        return False
    event = attachment.event
    return event is None or not event.is_internal or can_see_internal_notes(user)


def can_manage_api_tokens(user) -> bool:
    return is_merchant_user(user) and user.is_active


# --- Troubleshooting wizard (wizard helper) ----------------------------------------------------
# Merchants (and anyone) walk the published tree; editors edit the draft in the admin, preview it,
# publish it and read the per-outcome statistics.


def can_preview_wizard(user) -> bool:
    return can_edit_knowledge(user)


def can_publish_wizard(user) -> bool:
    return can_edit_knowledge(user) and user.has_perm("diagnosis.add_wizardversion")


def can_view_wizard_stats(user) -> bool:
    return can_edit_knowledge(user) and user.has_perm("diagnosis.view_wizardrun")


# --- Knowledge base (knowledge helper) -----------------------------------------------------------
# Everyone reads published articles; editors (staff in "Knowledge editors", or superusers) edit
# content in the admin, preview drafts and restore article revisions.


def can_preview_articles(user) -> bool:
    return can_edit_knowledge(user)


def can_restore_article_revisions(user) -> bool:
    return can_edit_knowledge(user) and user.has_perm("knowledge.change_article")


# Review before publish: what the public reads changes only through a lead editor (an editor
# given "knowledge.publish_article", alone or through a group) or an admin; other editors submit
# their changes for review (knowledge/publishing.py), and a second editor approves them.


def can_publish_articles(user) -> bool:
    """Publish directly: set the status to published, edit a published article, restore."""
    return can_edit_knowledge(user) and user.has_perm("knowledge.publish_article")


def can_review_article_change(user, change) -> bool:
    """Approve or send back a pending change: any editor who may change articles, except the
    change's author (no self-approval, lead editors included)."""
    return (
        can_edit_knowledge(user)
        and user.has_perm("knowledge.change_article")
        and change.is_pending
        and change.author_id != user.pk
    )


def can_withdraw_article_change(user, change) -> bool:
    """Withdraw a pending change: its author only, while it waits for review."""
    return bool(
        user.is_authenticated
        and change.is_pending
        and change.author_id is not None
        and change.author_id == user.pk
    )


# --- Decline insight and incidents (insight helper) ----------------------------------------------
# Agents read the dashboard and handle incidents; merchants, editors and visitors only see the
# banners (diagnosis.insight.context_processors).


def can_view_insight(user) -> bool:
    return can_use_desk(user)


def can_manage_incidents(user) -> bool:
    return can_use_desk(user)


# --- Desk tools: macros, merge and link, satisfaction (desk tools helper) -----------------------
# Agents use macros; admins and lead agents (agents given the macro model permissions in the
# admin) manage them. Merging joins two tickets of the SAME merchant only. The merchant (a user
# of the ticket's merchant) rates a resolved ticket once.


def can_use_macros(user) -> bool:
    return can_use_desk(user)


def can_manage_macros(user) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or (
        is_agent(user) and user.is_staff and user.has_perm("diagnosis.change_macro")
    )


def can_link_tickets(user, ticket, other) -> bool:
    return can_work_desk_ticket(user, ticket) and can_work_desk_ticket(user, other)


def can_merge_tickets(user, kept, duplicate) -> bool:
    """Same merchant, two different tickets, the duplicate not merged or closed already."""
    from diagnosis.tickets import workflow

    return (
        can_link_tickets(user, kept, duplicate)
        and kept.pk != duplicate.pk
        and kept.merchant_id == duplicate.merchant_id
        and duplicate.status in workflow.OPEN_STATUSES
    )


def can_rate_ticket(user, ticket) -> bool:
    """A user of the ticket's merchant, once the ticket is resolved (or closed after it was)."""
    from diagnosis.tickets import workflow

    return (
        is_merchant_user(user)
        and user.merchant_id == ticket.merchant_id
        and ticket.status in workflow.DONE_STATUSES
        and ticket.resolved_at is not None
    )


def can_view_satisfaction(user) -> bool:
    return can_view_insight(user)

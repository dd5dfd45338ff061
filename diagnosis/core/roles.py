"""Roles are auth groups (created by migration 0002); this keeps their model permissions in sync.

Permissions only exist after every app has migrated, so they are granted on post_migrate, which
is idempotent: running migrate again changes nothing.
"""

from django.utils.translation import gettext_lazy as _

SUPPORT_AGENTS = "Support agents"
KNOWLEDGE_EDITORS = "Knowledge editors"

ROLE_LABELS = {SUPPORT_AGENTS: _("支持专员"), KNOWLEDGE_EDITORS: _("知识编辑")}

# app_label -> models whose add/change/delete/view permissions the role gets (and no other
# permission of theirs: "knowledge.publish_article" is granted to lead editors one by one).
ROLE_MODEL_PERMISSIONS = {
    KNOWLEDGE_EDITORS: {
        "knowledge": [
            "category",
            "responsecode",
            "article",
            "announcement",
            "articlerevision",
            "articlevote",
            "searchqueryday",  # the content-gap page
            "synonymgroup",
        ],
        # Wizard: the draft rows, publishing (add_wizardversion) and run statistics.
        "diagnosis": [
            "wizardquestion",
            "wizardoption",
            "wizardoutcome",
            "wizardcause",
            "wizardoutcomearticle",
            "wizardcoderoute",
            "wizardversion",
            "wizardrun",
        ],
    },
    SUPPORT_AGENTS: {},
}


def sync_role_permissions(sender=None, **kwargs):
    from django.contrib.auth.models import Group, Permission

    for role, apps in ROLE_MODEL_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        wanted = []
        for app_label, models in apps.items():
            wanted.extend(
                Permission.objects.filter(
                    content_type__app_label=app_label,
                    content_type__model__in=models,
                    codename__regex=r"^(add|change|delete|view)_",
                )
            )
        missing = set(wanted) - set(group.permissions.all())
        if missing:
            group.permissions.add(*missing)

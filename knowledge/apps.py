from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "knowledge"
    verbose_name = _("知识库")

    def ready(self):
        from config import pagecache
        from knowledge import signals
        from knowledge.gaps import services as gaps

        signals.connect()
        pagecache.connect()
        gaps.connect()

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = "Evidence"

    def ready(self):
        # Permissions exist only after migrate has run, so the role groups are
        # brought up to date then rather than in a data migration.
        post_migrate.connect(_sync_roles, sender=self)


def _sync_roles(**kwargs):
    from .services import roles_sync

    roles_sync(using=kwargs.get("using", "default"))

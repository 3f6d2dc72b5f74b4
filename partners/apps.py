from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = "Evidence"

    def ready(self):
        # Permissions exist only after migrate has run, so the role groups are
        # brought up to date then rather than in a data migration. Each app's
        # permissions are created when post_migrate is sent for that app, so the
        # groups are synced after every app's (it is idempotent and cheap).
        post_migrate.connect(_sync_roles, dispatch_uid="partners.sync_roles")
        from .audit import audit_register_partners

        audit_register_partners()
        # Jobs are sent by their task's name: every process (web, commands, worker) knows it.
        from . import tasks  # noqa: F401


def _sync_roles(**kwargs):
    from .roles import roles_sync

    roles_sync(using=kwargs.get("using", "default"))

"""The audit trail: who created, changed or deleted which evidence, when, and what changed.

django-auditlog records every save and delete of the registered models (field, old value,
new value, who, when, from which address) in its LogEntry table; data admins browse and
filter it in the admin (Audit log entries), where nobody can add, change or delete an entry.
``_refuse_changes`` refuses it in the ORM too, and on PostgreSQL a trigger refuses it in the
database (migration partners 0007).

A survey import is one entry (the SurveyImport row with its counts), never one per response;
its undo is one entry with the counts deleted. Work done by a background job is recorded as
done by the user who started the job (``audit_actor``).
"""

from contextlib import contextmanager

from auditlog.context import disable_auditlog, set_actor
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models.signals import pre_delete, pre_save

# Audited models of this app; the scorecards app registers its methodology the same way.
AUDITED = ["MSO", "MSOService", "Practice", "Affiliation", "Accreditation", "QualityDesignation",
           "ReferenceInterview", "Claim", "Benchmark", "AggregateNPSSubmission",
           "SurveyImport", "SurveyMapping"]  # fmt: skip
USER_FIELDS = ["username", "first_name", "last_name", "email", "is_active", "is_staff",
               "is_superuser"]  # fmt: skip
IMMUTABLE = "The audit trail cannot be changed or deleted."


def audit_register(*models):
    for model in models:
        if not auditlog.contains(model):
            auditlog.register(model)


def audit_register_partners():
    """Called once from PartnersConfig.ready()."""
    from django.apps import apps

    audit_register(*(apps.get_model("partners", name) for name in AUDITED))
    # A user's roles are group memberships: each added or removed group is an entry. The
    # password (its hash) and the last login are not recorded.
    user = get_user_model()
    if not auditlog.contains(user):
        auditlog.register(user, include_fields=USER_FIELDS, m2m_fields={"groups"})
    pre_save.connect(_refuse_changes, sender=LogEntry, dispatch_uid="audit.no_changes")
    pre_delete.connect(_refuse_deletes, sender=LogEntry, dispatch_uid="audit.no_deletes")


def _refuse_changes(sender, instance, raw=False, **kwargs):
    if instance.pk is not None and not raw and LogEntry.objects.filter(pk=instance.pk).exists():
        raise PermissionDenied(IMMUTABLE)


def _refuse_deletes(sender, instance, **kwargs):
    raise PermissionDenied(IMMUTABLE)


@contextmanager
def audit_actor(user):
    """Record what happens inside as done by ``user`` (for work outside a request)."""
    if user is None:
        yield
        return
    with set_actor(user):
        yield


@contextmanager
def audit_paused():
    """Record nothing automatically inside (the caller records one entry for all of it)."""
    with disable_auditlog():
        yield


def audit_event(*, obj, action, changes, **extra):
    """Record one entry about ``obj``: ``action`` is LogEntry.Action.CREATE, UPDATE, DELETE
    or ACCESS; ``changes`` is ``{field: [old, new]}``. Returns the entry."""
    return LogEntry.objects.log_create(
        obj, action=action, changes={k: [_text(o), _text(n)] for k, (o, n) in changes.items()},
        force_log=True, **extra,
    )  # fmt: skip


def audit_created(objects):
    """One "created" entry per object made by ``bulk_create``, which sends no signals."""
    for obj in objects:
        changes = {f.attname: [None, getattr(obj, f.attname)] for f in obj._meta.concrete_fields}
        audit_event(obj=obj, action=LogEntry.Action.CREATE, changes=changes)


def audit_report(*, user, obj, event, **details):
    """Record that ``user`` generated or downloaded (``event``) a report about ``obj`` (an
    MSO, or the report's own row); ``details`` (JSON-able: format, file name, snapshot id...)
    are kept with the entry. Call it where the report is made or served."""
    return LogEntry.objects.log_create(
        obj, action=LogEntry.Action.ACCESS, changes={"report": [None, event]},
        additional_data=details or None, actor=user, force_log=True,
    )  # fmt: skip


def _text(value):
    return None if value is None else str(value)

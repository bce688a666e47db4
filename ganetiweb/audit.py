"""Writing the audit log: one call per thing worth remembering."""

from django.contrib.contenttypes.models import ContentType

from ganetiweb.models import AuditEntry


def _cluster_of(obj):
    from clusters.models import Cluster

    if isinstance(obj, Cluster):
        return obj
    return getattr(obj, "cluster", None)


def record(actor, action, obj=None, **details) -> AuditEntry:
    """Remember that `actor` did `action` (an AuditAction) to `obj`, with JSON-able details."""
    actor = actor if actor is not None and actor.is_authenticated else None
    return AuditEntry.objects.create(
        actor=actor,
        actor_name=actor.get_username() if actor else "",
        action=action,
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:255] if obj is not None else "",
        cluster=_cluster_of(obj) if obj is not None else None,
        details=details,
    )

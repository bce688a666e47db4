"""Writing the audit log: one call per thing worth remembering."""

from django.contrib.contenttypes.models import ContentType

from audit.models import AuditEntry


def _cluster_model():
    """The cluster model, through the entry's relation: audit/ imports no app above it."""
    return AuditEntry._meta.get_field("cluster").related_model


def _cluster_of(obj):
    if isinstance(obj, _cluster_model()):
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


def history_for(obj, limit=20, actions=None) -> list[AuditEntry]:
    """The latest entries about one object, newest first, ready for the History include."""
    entries = AuditEntry.objects.for_object(obj).select_related("actor")
    if actions is not None:
        entries = entries.filter(action__in=actions)
    return list(entries[:limit])


def visible_entries(user):
    """The entries a user may read: all for superusers, those of clusters they administer."""
    if not user.is_authenticated or not user.is_active:
        return AuditEntry.objects.none()
    if user.is_superuser:
        return AuditEntry.objects.all()
    return AuditEntry.objects.filter(cluster__in=administered_clusters(user))


def administered_clusters(user):
    """The clusters whose log the user reads (not for superusers: they read everything)."""
    return _cluster_model().objects.visible_to(user, "admin")


def may_read_log(user) -> bool:
    """Whether the audit log is for this user at all: superusers and cluster administrators."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or _cluster_model().objects.visible_to(user, "admin").exists()

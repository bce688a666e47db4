"""Creating within quota, and the requests that go to an admin when it does not fit.

A creation either starts a job at once (the user may create and it fits the owner's quota) or
becomes a VM request that a cluster admin approves, maybe changed, or refuses with a reason.
Owners may also ask for a larger quota. Each step is audited and tells the people concerned.
"""

from dataclasses import replace

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from guardian.shortcuts import get_users_with_perms

from access import permissions
from audit import log as audit_log
from audit.models import AuditAction
from clusters.backends.base import VMSpec
from clusters.models import Cluster
from notifications.notify import notify
from vms import quotas, services
from vms.models import Quota, QuotaRequest, RequestStatus, VMRequest


class RequestClosed(Exception):
    """The request was decided or withdrawn meanwhile; the message says how."""


def cluster_admins(cluster) -> list:
    """Who decides requests on a cluster: its admins (directly or by group) and superusers."""
    admins = get_users_with_perms(
        cluster, only_with_perms_in=["admin"], with_group_users=True, with_superusers=False
    )
    superusers = get_user_model().objects.filter(is_superuser=True, is_active=True)
    return list(get_user_model().objects.filter(Q(pk__in=admins) | Q(pk__in=superusers)))


def spec_amounts(spec: VMSpec) -> quotas.Amounts:
    return quotas.vm_amounts(spec.memory, spec.vcpus, sum(spec.disks), spec.start)


def submit_vm_creation(cluster, user, spec: VMSpec, owner: dict, message=""):
    """Start creating the VM, or file a request for it; returns the Job or the VMRequest."""
    permissions.require(user, cluster, "request_vm")
    may_create = Cluster.objects.visible_to(user, "create_vm").filter(pk=cluster.pk).exists()
    with transaction.atomic():
        if not may_create:
            reason = _("You may request VMs on %(cluster)s; an administrator creates them.") % {
                "cluster": cluster
            }
            return _file_vm_request(cluster, user, spec, owner, message, reason)
        problems = quotas.check(cluster, owner, spec_amounts(spec))
        if problems:
            reason = _("Beyond the quota: %(problems)s.") % {"problems": "; ".join(problems)}
            return _file_vm_request(cluster, user, spec, owner, message, reason)
        job = services.request_vm_creation(cluster, user, spec, owner)
        audit_log.record(user, AuditAction.VM_CREATE, cluster, name=spec.name, job=str(job.pk))
        return job


def _file_vm_request(cluster, user, spec, owner, message, reason) -> VMRequest:
    services.check_nics(cluster, spec.nics)  # an admin approves the size, not a bridge
    request = VMRequest.objects.create(
        cluster=cluster,
        requested_by=user,
        owner_user_id=owner.get("user"),
        owner_group_id=owner.get("group"),
        spec=spec.to_json(),
        message=message,
        reason=reason,
    )
    audit_log.record(
        user, AuditAction.REQUEST_CREATE, cluster, request=f"vm:{request.pk}", name=spec.name
    )
    notify(
        cluster_admins(cluster),
        gettext_lazy("%(user)s requests the VM %(name)s on %(cluster)s."),
        {"user": user.get_username(), "name": spec.name, "cluster": cluster},
        request.get_absolute_url(),
    )
    return request


def _take_pending(model, pk):
    """Lock a request and make sure nobody decided it meanwhile."""
    request = model.objects.select_for_update().select_related("cluster", "requested_by").get(pk=pk)
    if request.status != RequestStatus.PENDING:
        raise RequestClosed(
            _("This request is already %(status)s.") % {"status": request.get_status_display()}
        )
    return request


def _close(request, user, status, decision=""):
    request.status = status
    request.decided_by = user
    request.decided_at = timezone.now()
    request.decision = decision
    fields = ["status", "decided_by", "decided_at", "decision"]
    if isinstance(request, VMRequest):
        fields += ["spec", "job"]
    request.save(update_fields=fields)


def approve_vm_request(request: VMRequest, admin, **changes):
    """Create the VM as requested, with the admin's changes (size, template, placement)."""
    permissions.require(admin, request.cluster, "admin")
    with transaction.atomic():
        request = _take_pending(VMRequest, request.pk)
        spec = replace(VMSpec.from_json(request.spec), **changes)
        job = services.request_vm_creation(request.cluster, admin, spec, request.owner_ids)
        request.spec, request.job = spec.to_json(), job
        _close(request, admin, RequestStatus.APPROVED)
        audit_log.record(
            admin,
            AuditAction.REQUEST_APPROVE,
            request.cluster,
            request=f"vm:{request.pk}",
            name=spec.name,
            changes=sorted(changes),
        )
        notify(
            [request.requested_by],
            gettext_lazy("Your request for the VM %(name)s was approved; it is being created."),
            {"name": spec.name},
            job.get_absolute_url(),
        )
    return job


def refuse(request, admin, reason: str):
    """Refuse a VM or quota request, saying why."""
    permissions.require(admin, request.cluster, "admin")
    with transaction.atomic():
        request = _take_pending(type(request), request.pk)
        _close(request, admin, RequestStatus.REFUSED, reason)
        audit_log.record(
            admin, AuditAction.REQUEST_REFUSE, request.cluster, request=_ref(request), reason=reason
        )
        notify(
            [request.requested_by],
            gettext_lazy("Your request (%(request)s) was refused: %(reason)s"),
            {"request": request, "reason": reason},
            request.get_absolute_url(),
        )


def withdraw(request, user):
    """The requester takes back a pending request."""
    with transaction.atomic():
        request = _take_pending(type(request), request.pk)
        if request.requested_by_id != user.pk:
            raise RequestClosed(_("Only the person who asked may withdraw a request."))
        _close(request, user, RequestStatus.WITHDRAWN)
        audit_log.record(user, AuditAction.REQUEST_WITHDRAW, request.cluster, request=_ref(request))


def _ref(request) -> str:
    return f"{'vm' if isinstance(request, VMRequest) else 'quota'}:{request.pk}"


QUOTA_FIELDS = ("memory", "disk", "vcpus", "vms")


def submit_quota_request(cluster, user, owner: dict, limits: dict, message="") -> QuotaRequest:
    """Ask for a larger quota for oneself or one of one's groups."""
    request = QuotaRequest.objects.create(
        cluster=cluster,
        requested_by=user,
        owner_user_id=owner.get("user"),
        owner_group_id=owner.get("group"),
        message=message,
        **{name: limits.get(name) for name in QUOTA_FIELDS},
    )
    audit_log.record(user, AuditAction.REQUEST_CREATE, cluster, request=f"quota:{request.pk}")
    notify(
        cluster_admins(cluster),
        gettext_lazy("%(user)s asks for a larger quota on %(cluster)s."),
        {"user": user.get_username(), "cluster": cluster},
        request.get_absolute_url(),
    )
    return request


def set_quota(admin, cluster, owner: dict | None, limits: dict, use_default=False) -> Quota:
    """Set an owner's quota (or the cluster default, owner None); audited."""
    permissions.require(admin, cluster, "admin")
    owner_fields = (
        {"owner_user_id": owner.get("user"), "owner_group_id": owner.get("group")}
        if owner
        else {"owner_user": None, "owner_group": None}
    )
    values = {name: limits.get(name) for name in QUOTA_FIELDS}
    with transaction.atomic():
        quota, _created = Quota.objects.update_or_create(
            cluster=cluster, **owner_fields, defaults={**values, "use_default": use_default}
        )
        audit_log.record(
            admin,
            AuditAction.QUOTA_CHANGE,
            cluster,
            owner=str(quota.owner or _("default")),
            use_default=use_default,
            **values,
        )
    return quota


def resulting_limits(request: QuotaRequest, **limits) -> quotas.Limits:
    """The owner's quota once the request is approved.

    Each limit is the admin's (given in `limits`), else the one asked for; a limit left empty
    in both keeps the owner's current one (their own, or the cluster default they follow).
    A request never makes a limit unlimited: that is the quota page's deliberate choice.
    """
    current = quotas.limits_for(request.cluster, request.owner_ids)
    result = {}
    for name in QUOTA_FIELDS:
        wanted = limits[name] if name in limits else getattr(request, name)
        result[name] = getattr(current, name) if wanted is None else wanted
    return quotas.Limits(**result)


def approve_quota_request(request: QuotaRequest, admin, **limits) -> Quota:
    """Give the owner the quota asked for (or the admin's version of it); what neither asked
    nor changed stays as it is."""
    permissions.require(admin, request.cluster, "admin")
    with transaction.atomic():
        request = _take_pending(QuotaRequest, request.pk)
        # Read the current limits under the owner's quota lock, as the quota check does.
        quotas.lock(request.cluster, request.owner_ids)
        result = resulting_limits(request, **limits)
        changed = [
            name
            for name in QUOTA_FIELDS
            if limits.get(name, getattr(request, name)) != getattr(request, name)
        ]
        for name in QUOTA_FIELDS:
            if name in limits:  # the request records the version approved
                setattr(request, name, limits[name])
        request.save(update_fields=list(QUOTA_FIELDS))
        quota = set_quota(
            admin,
            request.cluster,
            request.owner_ids,
            {name: getattr(result, name) for name in QUOTA_FIELDS},
        )
        _close(request, admin, RequestStatus.APPROVED)
        audit_log.record(
            admin,
            AuditAction.REQUEST_APPROVE,
            request.cluster,
            request=_ref(request),
            changes=changed,
        )
        notify(
            [request.requested_by],
            gettext_lazy("Your quota on %(cluster)s was raised."),
            {"cluster": request.cluster},
            request.get_absolute_url(),
        )
    return quota


def pending_for(user):
    """(VM requests, quota requests) waiting for this user's decision."""
    admin_of = Cluster.objects.visible_to(user, "admin")
    return (
        VMRequest.objects.pending().filter(cluster__in=admin_of),
        QuotaRequest.objects.pending().filter(cluster__in=admin_of),
    )

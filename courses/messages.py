"""The details of each deployment check, as sentences in the reader's language.

Results store a key and parameters (courses.checks builds them, in a worker that has no
reader), and each page renders them in the language of whoever reads it.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clusters.choices import NodeRole

DETAILS = {
    "no_cluster": gettext_lazy(
        "The group has not registered its cluster yet; register it on the group's page."
    ),
    "unreachable": gettext_lazy("The cluster could not be reached: %(error)s"),
    "untrusted": gettext_lazy(
        "The cluster's certificate is not trusted yet. It presented the SHA-256 fingerprint "
        "%(fingerprint)s; compare it with the one of /var/lib/ganeti/rapi.pem on the master "
        "and confirm it on the group's page."
    ),
    "deadline": gettext_lazy(
        "The checks took longer than %(seconds)s s and were stopped: the cluster answered too "
        "slowly, or not at all."
    ),
    "not_checked": gettext_lazy("Not checked: the cluster could not be reached."),
    "check_error": gettext_lazy("The cluster could not answer this check: %(error)s"),
    "reachable": gettext_lazy(
        "RAPI answered at %(address)s for the cluster %(cluster)s as user %(user)s."
    ),
    "version": gettext_lazy("Ganeti %(version)s."),
    "version_unknown": gettext_lazy("The cluster did not say its Ganeti version (%(version)s)."),
    "nodes_enough": gettext_lazy("%(count)s nodes: %(nodes)s."),
    "nodes_too_few": gettext_lazy(
        "Only %(count)s node (%(nodes)s): at least 2 nodes are needed for replication and "
        "migration."
    ),
    "replicated_found": gettext_lazy("VMs with DRBD disks: %(vms)s."),
    "replicated_missing": gettext_lazy(
        "No VM uses the drbd disk template; create one with gnt-instance add -t drbd."
    ),
    "not_replicated_found": gettext_lazy("VMs without replication: %(vms)s."),
    "not_replicated_missing": gettext_lazy(
        "No VM without replication; create one with gnt-instance add -t plain (or file)."
    ),
    "migration_found": gettext_lazy("Ganeti job %(job)s (%(operation)s) succeeded at %(when)s."),
    "migration_missing": gettext_lazy(
        "No successful migration or failover in the cluster's job history. Ganeti archives old "
        "jobs, so migrate a VM (gnt-instance migrate) shortly before running the checks."
    ),
    "verify_passed": gettext_lazy(
        "The last cluster verify (job %(job)s, %(when)s) found no errors."
    ),
    "verify_failed": gettext_lazy(
        "The last cluster verify (job %(job)s, %(when)s) found errors: %(errors)s"
    ),
    "verify_missing": gettext_lazy(
        "No cluster verify in the cluster's job history; run gnt-cluster verify on the master."
    ),
}

OPERATIONS = {
    "OP_INSTANCE_MIGRATE": gettext_lazy("VM migration"),
    "OP_INSTANCE_FAILOVER": gettext_lazy("VM failover"),
    "OP_NODE_MIGRATE": gettext_lazy("node migration"),
}


def _node_list(nodes):
    roles = dict(NodeRole.choices)
    return ", ".join(f"{name} ({roles.get(role, role)})" for name, role in nodes)


def _vm_list(vms):
    return ", ".join(f"{name} ({template})" for name, template in vms)


def check_details(message, params):
    """The sentence for a stored result, in the active language."""
    template = DETAILS.get(message)
    if template is None:
        return message
    values = dict(params or {})
    if "nodes" in values:
        values["nodes"] = _node_list(values["nodes"])
    if "vms" in values:
        values["vms"] = _vm_list(values["vms"])
    if "operation" in values:
        values["operation"] = OPERATIONS.get(values["operation"], values["operation"])
    if "errors" in values:
        values["errors"] = "; ".join(values["errors"]) or _("see gnt-cluster verify")
    try:
        return str(template) % values
    except (KeyError, TypeError, ValueError):
        return str(template)

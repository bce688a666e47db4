"""Every page of the vms app, in its one `vms` namespace: the VMs (/vms/), the pool views of
clusters and nodes (/clusters/<slug>/, which show VMs, so they live here and not in clusters/),
and the VM and quota requests (/requests/). ganetiweb/urls.py mounts this at the root, after
clusters/urls.py, so /clusters/new/ stays the cluster form rather than a cluster named "new".

A VM's operations have one URL pattern: the slug names a declared operation
(vms/operations.py), so a new operation needs no new pattern.
"""

from django.urls import path

from vms.views import clusters, console, create, owner, quotas, requests, vms

app_name = "vms"

VM = "vms/<slug:cluster_slug>/<str:name>/"
CLUSTER = "clusters/<slug:slug>/"

urlpatterns = [
    path("vms/", vms.vm_list, name="list"),
    path("vms/new/", create.vm_create_start, name="create_start"),
    path("vms/new/<slug:cluster_slug>/", create.vm_create, name="create"),
    path(VM, vms.vm_detail, name="detail"),
    path(VM + "console/", console.console, name="console"),
    path(VM + "console/ticket/", console.console_ticket, name="console_ticket"),
    path(VM + "permissions/", vms.vm_permissions, name="permissions"),
    path(VM + "owner/", owner.vm_owner, name="owner"),
    path(VM + "<slug:action>/", vms.vm_action, name="action"),
    path("clusters/", clusters.cluster_list, name="cluster_list"),
    path(CLUSTER, clusters.cluster_detail, name="cluster"),
    path(CLUSTER + "quotas/", quotas.cluster_quotas, name="cluster_quotas"),
    path(CLUSTER + "quotas/<str:owner_key>/", quotas.owner_quota, name="owner_quota"),
    path(CLUSTER + "nodes/<str:name>/", clusters.node_detail, name="node"),
    path(CLUSTER + "nodes/<str:name>/<slug:action>/", clusters.node_action, name="node_action"),
    path("requests/", requests.request_list, name="request_list"),
    path(
        "requests/quota/new/<slug:cluster_slug>/",
        requests.quota_request_new,
        name="quota_request_new",
    ),
]
# The same pages for VM requests and quota requests: /requests/vm/7/ is `vms:vm_request`,
# /requests/quota/3/approve/ is `vms:quota_request_approve`.
for kind in ("vm", "quota"):
    urlpatterns += [
        path(
            f"requests/{kind}/<int:pk>/",
            requests.request_detail,
            {"kind": kind},
            name=f"{kind}_request",
        ),
    ]
    for step, view in (
        ("approve", requests.request_approve),
        ("refuse", requests.request_refuse),
        ("withdraw", requests.request_withdraw),
    ):
        urlpatterns.append(
            path(
                f"requests/{kind}/<int:pk>/{step}/",
                view,
                {"kind": kind},
                name=f"{kind}_request_{step}",
            )
        )

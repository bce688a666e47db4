"""The VM side's URLs: the `vms` namespace (urlpatterns), the pool views of clusters and nodes
(`cluster_pages`, served in the `clusters` namespace) and the requests (`request_pages`, the
`requests` namespace). ganetiweb/urls.py mounts each.

A VM's operations have one URL pattern: the slug names a declared operation
(vms/operations.py), so a new operation needs no new pattern.
"""

from django.urls import path

from vms.views import clusters, console, create, owner, quotas, requests, vms

urlpatterns = [
    path("", vms.vm_list, name="list"),
    path("new/", create.vm_create_start, name="create_start"),
    path("new/<slug:cluster_slug>/", create.vm_create, name="create"),
    path("<slug:cluster_slug>/<str:name>/", vms.vm_detail, name="detail"),
    path("<slug:cluster_slug>/<str:name>/console/", console.console, name="console"),
    path(
        "<slug:cluster_slug>/<str:name>/console/ticket/",
        console.console_ticket,
        name="console_ticket",
    ),
    path("<slug:cluster_slug>/<str:name>/permissions/", vms.vm_permissions, name="permissions"),
    path("<slug:cluster_slug>/<str:name>/owner/", owner.vm_owner, name="owner"),
    path("<slug:cluster_slug>/<str:name>/<slug:action>/", vms.vm_action, name="action"),
]

cluster_pages = [
    path("", clusters.cluster_list, name="list"),
    path("<slug:slug>/", clusters.cluster_detail, name="detail"),
    path("<slug:slug>/quotas/", quotas.cluster_quotas, name="quotas"),
    path("<slug:slug>/quotas/<str:owner_key>/", quotas.owner_quota, name="owner_quota"),
    path("<slug:slug>/nodes/<str:name>/", clusters.node_detail, name="node"),
    path("<slug:slug>/nodes/<str:name>/<slug:action>/", clusters.node_action, name="node_action"),
]

request_pages = [
    path("", requests.request_list, name="list"),
    path("quota/new/<slug:cluster_slug>/", requests.quota_request_new, name="quota_new"),
]
# The same pages for VM requests and quota requests: /requests/vm/7/, /requests/quota/3/approve/.
for kind in ("vm", "quota"):
    request_pages += [
        path(f"{kind}/<int:pk>/", requests.request_detail, {"kind": kind}, name=kind),
        path(
            f"{kind}/<int:pk>/approve/",
            requests.request_approve,
            {"kind": kind},
            name=f"{kind}_approve",
        ),
        path(
            f"{kind}/<int:pk>/refuse/",
            requests.request_refuse,
            {"kind": kind},
            name=f"{kind}_refuse",
        ),
        path(
            f"{kind}/<int:pk>/withdraw/",
            requests.request_withdraw,
            {"kind": kind},
            name=f"{kind}_withdraw",
        ),
    ]

from django.urls import path

from vms import request_views

app_name = "requests"
urlpatterns = [
    path("", request_views.request_list, name="list"),
    path("quota/new/<slug:cluster_slug>/", request_views.quota_request_new, name="quota_new"),
]
# The same pages for VM requests and quota requests: /requests/vm/7/, /requests/quota/3/approve/.
for kind in ("vm", "quota"):
    urlpatterns += [
        path(f"{kind}/<int:pk>/", request_views.request_detail, {"kind": kind}, name=kind),
        path(
            f"{kind}/<int:pk>/approve/",
            request_views.request_approve,
            {"kind": kind},
            name=f"{kind}_approve",
        ),
        path(
            f"{kind}/<int:pk>/refuse/",
            request_views.request_refuse,
            {"kind": kind},
            name=f"{kind}_refuse",
        ),
        path(
            f"{kind}/<int:pk>/withdraw/",
            request_views.request_withdraw,
            {"kind": kind},
            name=f"{kind}_withdraw",
        ),
    ]

from django.urls import path

from clusters import views
from ganetiweb import sharing_views
from vms import quota_views

app_name = "clusters"
urlpatterns = [
    path("", views.cluster_list, name="list"),
    path("new/", views.cluster_create, name="create"),
    path("<slug:slug>/", views.cluster_detail, name="detail"),
    path("<slug:slug>/edit/", views.cluster_edit, name="edit"),
    path("<slug:slug>/sync/", views.cluster_sync, name="sync"),
    path("<slug:slug>/test/", views.cluster_test_connection, name="test"),
    path("<slug:slug>/trust/", views.cluster_trust_certificate, name="trust"),
    path("<slug:slug>/import/", views.cluster_import, name="import"),
    path("<slug:slug>/permissions/", sharing_views.cluster_permissions, name="permissions"),
    path("<slug:slug>/quotas/", quota_views.cluster_quotas, name="quotas"),
    path("<slug:slug>/quotas/<str:owner_key>/", quota_views.owner_quota, name="owner_quota"),
    path("<slug:slug>/nodes/<str:name>/", views.node_detail, name="node"),
    path("<slug:slug>/nodes/<str:name>/<slug:action>/", views.node_action, name="node_action"),
]

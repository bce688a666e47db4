"""The cluster settings pages, the `clusters` namespace, served under /clusters/. The pages
that show a cluster's VMs and nodes (/clusters/<slug>/) need VMs, so they are vms/urls.py's."""

from django.urls import path

from clusters import views

app_name = "clusters"

urlpatterns = [
    path("new/", views.cluster_create, name="create"),
    path("<slug:slug>/edit/", views.cluster_edit, name="edit"),
    path("<slug:slug>/connection/", views.cluster_connection, name="connection"),
    path("<slug:slug>/sync/", views.cluster_sync, name="sync"),
    path("<slug:slug>/test/", views.cluster_test_connection, name="test"),
    path("<slug:slug>/trust/", views.cluster_trust_certificate, name="trust"),
    path("<slug:slug>/import/", views.cluster_import, name="import"),
    path("<slug:slug>/permissions/", views.cluster_permissions, name="permissions"),
]

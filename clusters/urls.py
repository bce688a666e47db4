"""The cluster settings pages. ganetiweb/urls.py serves them under /clusters/, in the
`clusters` namespace, together with the pool views of vms/urls.py (`cluster_pages`)."""

from django.urls import path

from clusters import views

urlpatterns = [
    path("new/", views.cluster_create, name="create"),
    path("<slug:slug>/edit/", views.cluster_edit, name="edit"),
    path("<slug:slug>/sync/", views.cluster_sync, name="sync"),
    path("<slug:slug>/test/", views.cluster_test_connection, name="test"),
    path("<slug:slug>/trust/", views.cluster_trust_certificate, name="trust"),
    path("<slug:slug>/import/", views.cluster_import, name="import"),
    path("<slug:slug>/permissions/", views.cluster_permissions, name="permissions"),
]

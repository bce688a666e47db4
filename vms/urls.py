from django.urls import path

from ganetiweb import sharing_views
from vms import console_views, create_views, owner_views, views

app_name = "vms"
urlpatterns = [
    path("", views.vm_list, name="list"),
    path("new/", create_views.vm_create_start, name="create_start"),
    path("new/<slug:cluster_slug>/", create_views.vm_create, name="create"),
    path("<slug:cluster_slug>/<str:name>/", views.vm_detail, name="detail"),
    path("<slug:cluster_slug>/<str:name>/console/", console_views.console, name="console"),
    path(
        "<slug:cluster_slug>/<str:name>/console/ticket/",
        console_views.console_ticket,
        name="console_ticket",
    ),
    path(
        "<slug:cluster_slug>/<str:name>/permissions/",
        sharing_views.vm_permissions,
        name="permissions",
    ),
    path("<slug:cluster_slug>/<str:name>/owner/", owner_views.vm_owner, name="owner"),
    path("<slug:cluster_slug>/<str:name>/<slug:action>/", views.vm_action, name="action"),
]

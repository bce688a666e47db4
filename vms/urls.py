from django.urls import path

from vms import create_views, views

app_name = "vms"
urlpatterns = [
    path("", views.vm_list, name="list"),
    path("new/", create_views.vm_create_start, name="create_start"),
    path("new/<slug:cluster_slug>/", create_views.vm_create, name="create"),
    path("<slug:cluster_slug>/<str:name>/", views.vm_detail, name="detail"),
    path("<slug:cluster_slug>/<str:name>/<slug:action>/", views.vm_action, name="action"),
]

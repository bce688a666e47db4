from django.urls import path

from vms import views

app_name = "vms"
urlpatterns = [
    path("", views.vm_list, name="list"),
    path("<slug:cluster_slug>/<str:name>/", views.vm_detail, name="detail"),
]

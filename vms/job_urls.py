from django.urls import path

from vms import job_views

app_name = "jobs"
urlpatterns = [
    path("", job_views.job_list, name="list"),
    path("<uuid:pk>/", job_views.job_page, name="detail"),
    path("<uuid:pk>/cancel/", job_views.job_cancel, name="cancel"),
    path("<uuid:pk>/retry/", job_views.job_retry, name="retry"),
]

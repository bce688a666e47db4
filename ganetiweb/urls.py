from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from ganetiweb import views
from notifications import languages

# One namespace per app. vms/ serves /vms/, the pool views under /clusters/<slug>/ and
# /requests/, so it is mounted at the root, after clusters/ (whose /clusters/new/ comes first).

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("clusters/", include("clusters.urls")),
    path("", include("vms.urls")),
    path("jobs/", include("jobs.urls")),
    path("courses/", include("courses.urls")),
    path("audit/", include("audit.urls")),
    path("notifications/", include("notifications.urls")),
    path("i18n/setlang/", languages.set_language, name="set_language"),
    path("metrics", views.prometheus_metrics, name="metrics"),
    path(
        "admin/django_rq/dashboard/schedulers/<int:scheduler_index>/",
        views.rq_schedulers,
        name="rq_schedulers",
    ),
    path("admin/", admin.site.urls),
]

from django.urls import path

from ganetiweb import notification_views

app_name = "notifications"
urlpatterns = [
    path("", notification_views.notification_list, name="list"),
    path("read/", notification_views.mark_all_read, name="mark_all_read"),
]

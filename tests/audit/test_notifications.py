"""The notifications page, the bell in the navbar, and marking them read."""

import pytest
from django.urls import reverse

from ganetiweb.models import Notification
from ganetiweb.navigation import pending_requests_for
from ganetiweb.notify import notify

pytestmark = pytest.mark.django_db

URL = reverse("notifications:list")


def test_a_user_reads_their_own_notifications_newest_first(client, plain_user, superuser):
    notify([plain_user], "First.", "/vms/")
    notify([plain_user], "Second.")
    notify([superuser], "Not for alice.")
    client.force_login(plain_user)
    response = client.get(URL)
    assert [n.text for n in response.context["page"].object_list] == ["Second.", "First."]
    assert b"Not for alice." not in response.content
    assert b'<a href="/vms/"' in response.content
    assert response.content.count(b"data-unread") == 2


def test_the_bell_counts_unread_notifications(client, plain_user):
    client.force_login(plain_user)
    assert client.get(reverse("dashboard")).context["unread_notifications_count"] == 0
    notify([plain_user], "One.")
    notify([plain_user], "Two.")
    response = client.get(reverse("dashboard"))
    assert response.context["unread_notifications_count"] == 2
    assert response.context["pending_requests_count"] == pending_requests_for(plain_user)
    assert b"data-notifications-bell" in response.content


def test_mark_all_read_is_a_post_and_clears_the_bell(client, plain_user, superuser):
    notify([plain_user], "One.")
    notify([superuser], "Root's.")
    client.force_login(plain_user)
    assert client.get(reverse("notifications:mark_all_read")).status_code == 405
    response = client.post(reverse("notifications:mark_all_read"), follow=True)
    assert response.context["unread_notifications_count"] == 0
    assert b"data-unread" not in response.content
    assert Notification.objects.get(user=superuser).read_at is None


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get(URL)["Location"].startswith(reverse("login"))
    assert client.post(reverse("notifications:mark_all_read")).status_code == 302

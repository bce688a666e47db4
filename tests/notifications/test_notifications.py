"""The notifications page, the bell in the navbar, and marking them read."""

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy

from ganetiweb.navigation import pending_requests_for
from notifications.models import LanguagePreference, Notification
from notifications.notify import notify
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db

URL = reverse("notifications:list")


def test_a_user_reads_their_own_notifications_newest_first(client, outsider, superuser):
    notify([outsider], "First.", url="/vms/")
    notify([outsider], "Second.")
    notify([superuser], "Not for alice.")
    client.force_login(outsider)
    response = client.get(URL)
    assert [n.text for n in response.context["page"].object_list] == ["Second.", "First."]
    assert b"Not for alice." not in response.content
    assert b'<a href="/vms/"' in response.content
    assert response.content.count(b"data-unread") == 2


def test_the_bell_counts_unread_notifications(client, outsider):
    client.force_login(outsider)
    assert client.get(reverse("dashboard")).context["unread_notifications_count"] == 0
    notify([outsider], "One.")
    notify([outsider], "Two.")
    response = client.get(reverse("dashboard"))
    assert response.context["unread_notifications_count"] == 2
    assert response.context["pending_requests_count"] == pending_requests_for(outsider)
    assert b"data-notifications-bell" in response.content


def test_mark_all_read_is_a_post_and_clears_the_bell(client, outsider, superuser):
    notify([outsider], "One.")
    notify([superuser], "Root's.")
    client.force_login(outsider)
    assert client.get(reverse("notifications:mark_all_read")).status_code == 405
    response = client.post(reverse("notifications:mark_all_read"), follow=True)
    assert response.context["unread_notifications_count"] == 0
    assert b"data-unread" not in response.content
    assert Notification.objects.get(user=superuser).read_at is None


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get(URL)["Location"].startswith(reverse("login"))
    assert client.post(reverse("notifications:mark_all_read")).status_code == 302


def test_each_recipient_reads_the_notification_in_their_own_language(
    outsider, superuser, mailoutbox, django_capture_on_commit_callbacks
):
    LanguagePreference.objects.create(user=outsider, language="pt-br")
    raised = gettext_lazy("Your quota on %(cluster)s was raised.")
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        notify([outsider, superuser], raised, {"cluster": "alpha"}, "/requests/")
    texts = dict(Notification.objects.values_list("user__username", "text"))
    assert texts == {
        "alice": "Sua cota em alpha foi aumentada.",
        "root": "Your quota on alpha was raised.",
    }
    mails = {tuple(mail.to): mail.body.split("\n")[0] for mail in mailoutbox}
    assert mails == {
        ("alice@example.com",): "Sua cota em alpha foi aumentada.",
        ("root@example.com",): "Your quota on alpha was raised.",
    }
    assert all(mail.body.endswith(f"{settings.SITE_URL}/requests/") for mail in mailoutbox)


def test_logging_in_remembers_the_language_of_the_page(client, outsider):
    client.post(
        reverse("login"),
        {"username": "alice", "password": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="pt-BR,pt;q=0.9",
    )
    assert LanguagePreference.objects.get(user=outsider).language == "pt-br"


def test_the_language_menu_remembers_the_choice_of_a_logged_in_user(client, outsider):
    client.force_login(outsider)
    response = client.post(reverse("set_language"), {"language": "pt-br", "next": "/"})
    assert response.status_code == 302
    assert LanguagePreference.objects.get(user=outsider).language == "pt-br"
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert LanguagePreference.objects.get(user=outsider).language == "pt-br"

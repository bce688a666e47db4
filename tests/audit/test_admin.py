"""The audit log and notifications in the Django admin."""

import pytest
from django.urls import reverse

from audit.log import record
from audit.models import AuditAction
from notifications.notify import notify

pytestmark = pytest.mark.django_db


def test_the_admin_reads_the_audit_log_but_cannot_change_it(client, superuser, cluster):
    entry = record(superuser, AuditAction.CLUSTER_CHANGE, cluster)
    client.force_login(superuser)
    assert client.get(reverse("admin:audit_auditentry_changelist")).status_code == 200
    assert client.get(reverse("admin:audit_auditentry_change", args=[entry.pk])).status_code == 200
    assert client.get(reverse("admin:audit_auditentry_add")).status_code == 403
    assert client.post(reverse("admin:audit_auditentry_delete", args=[entry.pk])).status_code == 403


def test_the_admin_lists_notifications(client, superuser, outsider):
    notify([outsider], "Hello.")
    client.force_login(superuser)
    response = client.get(reverse("admin:notifications_notification_changelist"))
    assert b"Hello." in response.content

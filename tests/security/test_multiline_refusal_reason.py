"""A refusal's reason with line breaks (typed in the textarea, or a header injection attempt)
must neither make the e-mail fail after the refusal is saved nor add a header: the subject is
one line, and the body keeps the reason whole."""

import pytest
from django.core import mail
from django.urls import reverse

from notifications.models import Notification
from vms.models import VMRequest

pytestmark = pytest.mark.django_db

SPEC = {"name": "web1", "memory": 256, "vcpus": 1, "disk_template": "diskless"}
REASON = "No room this term.\r\nBcc: everyone@example.org\nAsk again in March."


def test_a_reason_on_several_lines_is_mailed_with_a_one_line_subject(
    client_for, creator, cluster_admin, cluster, django_capture_on_commit_callbacks
):
    request = VMRequest.objects.create(
        cluster=cluster, requested_by=creator, owner_user=creator, spec={**SPEC, "disks": []}
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cluster_admin).post(
            reverse("vms:vm_request_refuse", args=[request.pk]), {"reason": REASON}
        )

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "refused"
    [message] = mail.outbox
    assert message.recipients() == ["maya@example.com"]
    assert "\n" not in message.subject and "\r" not in message.subject
    assert message.subject.startswith("[ganetiweb] Your request")
    assert message.message()["Bcc"] is None
    body = message.body.replace("\r\n", "\n")
    assert "No room this term.\nBcc: everyone@example.org\nAsk again in March." in body
    assert "Ask again in March." in Notification.objects.get(user=creator).text

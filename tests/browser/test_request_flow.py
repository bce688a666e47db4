"""A VM beyond quota, from the user's form to the admin's approval to the VM on Ganeti.

Everything is real: the pages are served by uvicorn (ganetiweb.server), the creation job runs
against the Ganeti test cluster, and both people use Chromium. The screenshots of each step are
looked at by eye.
"""

import secrets

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from guardian.shortcuts import assign_perm

from tests.clusters.factories import make_cluster
from tests.fixtures_browser import ARTIFACTS, log_in
from vms.models import Quota, VirtualMachine, VMRequest
from vms.sync import sync_cluster

SHOTS = ARTIFACTS / "screenshots"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ganeti(ganeti_cluster):
    cluster = make_cluster(
        "gwtest",
        kind="ganeti",
        rapi_host=ganeti_cluster.rapi_host,
        rapi_port=ganeti_cluster.rapi_port,
        rapi_user=ganeti_cluster.rapi_user,
        rapi_password=ganeti_cluster.rapi_password,
        pinned_fingerprint=ganeti_cluster.cert_sha256,
    )
    assert sync_cluster(cluster.pk).error == ""
    return cluster


@pytest.fixture
def instance_name(ganeti_cluster):
    name = f"req-{secrets.token_hex(4)}.gwtest.example"
    yield name
    ganeti_cluster.remove_instance(name)


def test_a_request_beyond_quota_is_approved_with_a_change_and_the_user_gets_the_vm(
    live_site, browser, page, screenshot, superuser, outsider, worker, ganeti, instance_name
):
    assign_perm("create_vm", outsider, ganeti)
    Quota.objects.create(cluster=ganeti, memory=128, vms=2)  # the cluster's default
    admin_page = browser.new_page(viewport={"width": 1280, "height": 900})

    # alice asks for 256 MiB where her quota admits 128: the form files a request.
    log_in(page, live_site, "alice")
    page.goto(f"{live_site.url}{reverse('vms:create', args=[ganeti.slug])}")
    assert "Quota on this cluster" in page.locator("aside").inner_text()
    page.fill("input[name=name]", instance_name)
    page.fill("input[name=memory]", "256")
    page.select_option("select[name=disk_template]", "diskless")
    page.select_option("select[name=os]", "noop")
    screenshot("request-1-user-fills-the-form-beyond-quota")
    page.click("main button:has-text('Create the VM')")
    page.wait_for_url("**/requests/vm/*/")
    assert page.locator("h1 .badge").inner_text() == "pending"
    assert "256 MiB of memory in all, over the quota of 128 MiB" in page.content()
    screenshot("request-2-user-sees-the-request-pending")
    request = VMRequest.objects.get()

    # The admin sees the count in the navigation, opens the request, halves the memory.
    log_in(admin_page, live_site, "root")
    assert admin_page.locator("nav a:has-text('Requests') .badge").inner_text() == "1"
    admin_page.click("nav a:has-text('Requests')")
    admin_page.click(f"a:has-text('{instance_name}')")
    admin_page.fill("input[name=memory]", "128")
    admin_page.screenshot(path=SHOTS / "request-3-admin-changes-and-approves.png", full_page=True)
    admin_page.click("button:has-text('Approve and create')")
    admin_page.wait_for_url("**/jobs/*/")

    assert worker.run() == 0
    admin_page.wait_for_selector("#job-status .badge:has-text('succeeded')", timeout=30000)
    admin_page.screenshot(path=SHOTS / "request-4-creation-job-succeeded.png", full_page=True)
    request.refresh_from_db()
    assert request.status == "approved" and request.decided_by == superuser

    admin_page.close()

    # alice finds the VM, hers, with the memory the admin chose, and a notification.
    vm = VirtualMachine.objects.get(cluster=ganeti, name=instance_name)
    assert vm.owner_user == get_user_model().objects.get(username="alice")
    assert vm.memory == 128
    page.goto(f"{live_site.url}{reverse('vms:list')}")
    assert instance_name in page.locator("main table").inner_text()
    assert page.locator("[data-notifications-bell] .badge").inner_text().startswith("1")
    screenshot("request-5-user-sees-the-vm")

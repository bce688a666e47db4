"""Create and delete a real QEMU VM through the pages, watching the job page update live."""

import pytest
from django.urls import reverse

from tests.clusters.factories import make_cluster
from tests.fixtures_browser import log_in
from vms.sync import sync_cluster

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_creates_a_vm_watches_its_job_and_deletes_it(
    live_site, page, screenshot, superuser, worker, libvirt_uri, libvirt_conn, vm_prefix
):
    cluster = make_cluster("local", kind="libvirt", libvirt_uris=libvirt_uri)
    assert sync_cluster(cluster.pk).error == ""
    name = f"{vm_prefix}web"
    log_in(page, live_site, "root")

    page.goto(f"{live_site.url}{reverse('vms:create', args=['local'])}")
    page.fill("input[name=name]", name)
    page.fill("input[name=memory]", "64")
    page.select_option("select[name=disk_template]", "diskless")
    screenshot("vm-create-form")
    page.click("main button:has-text('Create the VM')")
    page.wait_for_url("**/jobs/*/")
    assert page.locator("#job-status .badge").inner_text() == "queued"

    assert worker.run() == 0
    # The page was not reloaded: htmx polls the job until it ends.
    page.wait_for_selector("#job-status .badge:has-text('succeeded')", timeout=15000)
    assert "Started" in page.locator(".job-log").inner_text()
    screenshot("vm-create-job-succeeded")
    assert libvirt_conn.lookupByName(name).isActive()

    page.goto(f"{live_site.url}{reverse('vms:action', args=['local', name, 'delete'])}")
    page.fill("input[name=confirm_name]", name)
    page.click("main button:has-text('delete')")
    page.wait_for_url("**/jobs/*/")
    worker.run()
    page.wait_for_selector("#job-status .badge:has-text('succeeded')", timeout=15000)
    assert name not in [d.name() for d in libvirt_conn.listAllDomains()]

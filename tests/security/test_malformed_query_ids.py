"""Ids in query strings that are not numbers (?vm=abc, ?node=abc, ?template=abc) are answered
with a 404 or ignored, never with a server error."""

import pytest
from django.urls import reverse

from vms.models import VMTemplate

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["vm", "node"])
@pytest.mark.parametrize("value", ["abc", "1 OR 1=1", "-1", "1.5", "\u0661"])
def test_the_job_list_answers_a_malformed_id_with_404(client_for, owner, name, value):
    response = client_for(owner).get(reverse("jobs:list"), {name: value})

    assert response.status_code == 404


def test_the_job_list_still_filters_by_a_vm_id(client_for, owner, owned_vm):
    response = client_for(owner).get(reverse("jobs:list"), {"vm": str(owned_vm.pk)})

    assert response.status_code == 200
    assert response.context["scope"] == "vm"


@pytest.mark.parametrize("name", ["vm", "node"])
def test_an_id_too_large_for_the_database_is_a_404(client_for, owner, name):
    response = client_for(owner).get(reverse("jobs:list"), {name: "9" * 30})

    assert response.status_code == 404


@pytest.mark.parametrize("value", ["abc", "1 OR 1=1", "9" * 30])
def test_the_create_form_ignores_a_malformed_template_id(client_for, creator, cluster, value):
    VMTemplate.objects.create(cluster=cluster, name="small", memory=256, disk_template="diskless")

    response = client_for(creator).get(
        reverse("vms:create", args=[cluster.slug]), {"template": value}
    )

    assert response.status_code == 200
    assert "memory" not in response.context["form"].initial

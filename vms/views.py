"""VM pages; they read only the database."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from vms.forms import VMFilterForm
from vms.models import VirtualMachine

PAGE_SIZE = 50


@login_required
def vm_list(request):
    form = VMFilterForm(request.GET or None, user=request.user)
    vms = VirtualMachine.objects.visible_to(request.user).for_listing()
    vms = form.apply(vms) if request.GET else vms.filter(missing=False)
    page = Paginator(vms.order_by("name", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "vms/vm_list.html", context)


@login_required
def vm_detail(request, cluster_slug, name):
    vm = get_object_or_404(
        VirtualMachine.objects.visible_to(request.user).for_listing(),
        cluster__slug=cluster_slug,
        name=name,
    )
    return render(request, "vms/vm_detail.html", {"vm": vm})

"""The audit log: superusers read all of it, cluster administrators that of their clusters."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _

from audit.forms import AuditFilterForm
from audit.log import administered_clusters, may_read_log, visible_entries

PAGE_SIZE = 50


@login_required
def audit_list(request):
    if not may_read_log(request.user):
        raise PermissionDenied(
            _("The audit log is for administrators of a cluster; ask one if you need an entry.")
        )
    clusters = administered_clusters(request.user)
    form = AuditFilterForm(request.GET or None, clusters=clusters)
    entries = visible_entries(request.user).select_related("cluster", "content_type")
    entries = form.apply(entries) if request.GET else entries
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "audit/audit_list.html", context)

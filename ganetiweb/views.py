from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from clusters.models import Cluster
from clusters.overview import pool_overview
from vms.quota_views import my_quotas

MAX_QUOTA_CARDS = 12


@login_required
def dashboard(request):
    """The pool at a glance, and the user's own quotas; reads only the database."""
    total, cards = pool_overview(request.user)
    # Superusers decide quotas rather than live within them: their page is each cluster's.
    clusters = (
        []
        if request.user.is_superuser
        else Cluster.objects.visible_to(request.user, "request_vm")[:MAX_QUOTA_CARDS]
    )
    context = {"total": total, "cards": cards, "quotas": my_quotas(request.user, clusters)}
    return render(request, "ganetiweb/dashboard.html", context)

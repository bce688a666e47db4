from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from clusters.models import Cluster
from vms.overview import pool_overview
from vms.views.quotas import my_quotas

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


@staff_member_required
def rq_schedulers(request, scheduler_index):
    """django_rq's scheduler page fails without rq-scheduler, which ganetiweb does not use:
    periodic work is queued by `manage.py run_scheduler`. Say so instead of failing."""
    raise Http404(_("ganetiweb schedules its periodic jobs with manage.py run_scheduler."))

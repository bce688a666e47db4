from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from clusters.models import Cluster
from ganetiweb import prometheus
from vms.health import pool_problems
from vms.overview import pool_overview
from vms.views.quotas import my_quotas

MAX_QUOTA_CARDS = 12
# The pool's worst problems; the rest are a count (each cluster's page lists all of its own).
MAX_PROBLEMS = 10


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
    problems = pool_problems(request.user, [card.cluster for card in cards])
    context = {
        "total": total,
        "cards": cards,
        "quotas": my_quotas(request.user, clusters),
        "problems": problems[:MAX_PROBLEMS],
        "more_problems": max(len(problems) - MAX_PROBLEMS, 0),
    }
    return render(request, "ganetiweb/dashboard.html", context)


@staff_member_required
def rq_schedulers(request, scheduler_index):
    """django_rq's scheduler page fails without rq-scheduler, which ganetiweb does not use:
    periodic work is queued by `manage.py run_scheduler`. Say so instead of failing."""
    raise Http404(_("ganetiweb schedules its periodic jobs with manage.py run_scheduler."))


def prometheus_metrics(request):
    """/metrics for Prometheus, with `Authorization: Bearer <METRICS_TOKEN>`: 404 while no
    token is set (the export is off), 401 without the right one. No session, no login: a
    scraper is not a user."""
    if not settings.METRICS_TOKEN:
        raise Http404(_("The metrics export is off: set METRICS_TOKEN."))
    if not prometheus.token_allows(request.headers.get("Authorization", "")):
        response = HttpResponse(_("A bearer token is needed."), status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(prometheus.registry()), content_type=CONTENT_TYPE_LATEST)

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from clusters.overview import pool_overview


@login_required
def dashboard(request):
    """The pool at a glance; reads only the database."""
    total, cards = pool_overview(request.user)
    return render(request, "ganetiweb/dashboard.html", {"total": total, "cards": cards})

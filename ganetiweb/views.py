from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def dashboard(request):
    """The pool at a glance; reads only the database."""
    return render(request, "ganetiweb/dashboard.html")

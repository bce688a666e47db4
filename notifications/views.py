"""A user's notifications: what happened to their VMs and requests."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

PAGE_SIZE = 50


@login_required
def notification_list(request):
    notes = request.user.notifications.all()
    page = Paginator(notes, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/notification_list.html", {"page": page, "query": ""})


@login_required
@require_POST
def mark_all_read(request):
    count = request.user.notifications.filter(read_at=None).update(read_at=timezone.now())
    if count:
        messages.success(request, _("All notifications marked as read."))
    return redirect("notifications:list")

"""The main navigation: sections appear as their pages exist."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from audit.log import may_read_log
from notifications.models import Notification
from vms.approvals import pending_for

# (label, URL name, shown to: False everyone, True staff only, or a predicate on the user)
SECTIONS = [
    (_("Dashboard"), "dashboard", False),
    (_("Clusters"), "vms:cluster_list", False),
    (_("VMs"), "vms:list", False),
    (_("Jobs"), "jobs:list", False),
    (_("Requests"), "vms:request_list", False),
    (_("Courses"), "courses:list", False),
    (_("Audit log"), "audit:list", may_read_log),
    (_("Admin"), "admin:index", True),
]


def _resolvable(url_name):
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


def navigation(request):
    """Give templates the sections this user can open, marking the current one."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_sections": []}
    sections = []
    for label, url_name, shown_to in SECTIONS:
        if callable(shown_to) and not shown_to(user):
            continue
        if shown_to is True and not user.is_staff:
            continue
        url = _resolvable(url_name)
        if url is None:
            continue
        current = request.path == url if url == "/" else request.path.startswith(url)
        sections.append({"label": label, "url": url, "current": current, "name": url_name})
    return {"nav_sections": sections}


def pending_requests_for(user) -> int:
    """How many VM and quota requests wait for this user's decision (two counts)."""
    return sum(queryset.count() for queryset in pending_for(user))


def counts(request):
    """The navbar's badges: unread notifications (one query) and requests waiting."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications_count": Notification.objects.filter(user=user, read_at=None).count(),
        "pending_requests_count": pending_requests_for(user),
    }

"""The main navigation: sections appear as their pages exist."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# (label, URL name, shown to staff only)
SECTIONS = [
    (_("Dashboard"), "dashboard", False),
    (_("Clusters"), "clusters:list", False),
    (_("VMs"), "vms:list", False),
    (_("Jobs"), "jobs:list", False),
    (_("Requests"), "requests:list", False),
    (_("Courses"), "courses:list", False),
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
    for label, url_name, staff_only in SECTIONS:
        if staff_only and not user.is_staff:
            continue
        url = _resolvable(url_name)
        if url is None:
            continue
        current = request.path == url if url == "/" else request.path.startswith(url)
        sections.append({"label": label, "url": url, "current": current})
    return {"nav_sections": sections}

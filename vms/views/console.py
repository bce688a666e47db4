"""The console page and its tickets; the relay itself is vms/consumers.py."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from access.permissions import get_for_user_or_404
from vms.console import consumers
from vms.console.tickets import TICKET_SECONDS, issue_ticket
from vms.models import VirtualMachine

# What the page says when the websocket closes with each code (see vms/consumers.py).
CLOSE_MESSAGES = {
    consumers.CLOSE_ENDED: gettext_lazy("The VM's VNC server ended the session."),
    consumers.CLOSE_REVOKED: gettext_lazy(
        "Your access to this console has ended: the permission was withdrawn."
    ),
    consumers.CLOSE_MOVED: gettext_lazy("The VM moved to another node; reconnecting to it."),
    consumers.CLOSE_VM_OFF: gettext_lazy("The VM is not running, so it has no console."),
    consumers.CLOSE_UNREACHABLE: gettext_lazy(
        "The VM's node cannot be reached: its VNC port does not answer."
    ),
    consumers.CLOSE_VNC_AUTH: gettext_lazy(
        "The VM's VNC server refused the stored password; an administrator should check it."
    ),
    consumers.CLOSE_LOOPBACK_ONLY: gettext_lazy(
        "The VM's console listens only on its node's loopback address, out of ganetiweb's "
        "reach; an administrator should make VNC listen on the node's address."
    ),
    consumers.CLOSE_FORBIDDEN: gettext_lazy(
        "The cluster gives an address for this console that ganetiweb does not connect to "
        "(this machine's own or a special address); an administrator should check the cluster."
    ),
}


def _console_vm(request, cluster_slug, name):
    vms = VirtualMachine.objects.select_related("cluster", "primary_node")
    return get_for_user_or_404(vms, request.user, "console", cluster__slug=cluster_slug, name=name)


@login_required
def console(request, cluster_slug, name):
    vm = _console_vm(request, cluster_slug, name)
    strings = {
        "connecting": _("Connecting…"),
        "connected": _("Connected"),
        "disconnected": _("Disconnected"),
        "refused": _(
            "The console could not be opened: access was refused or the ticket expired. "
            "Reload the page to try again."
        ),
        "lost": _("The connection to the console was lost."),
        "credentials": _(
            "The VNC server asks for a password that ganetiweb does not know; "
            "an administrator should set it."
        ),
        "close_messages": {str(code): str(text) for code, text in CLOSE_MESSAGES.items()},
    }
    context = {
        "vm": vm,
        "console_config": {
            "ticketUrl": reverse("vms:console_ticket", args=[vm.cluster.slug, vm.name]),
            "movedCode": consumers.CLOSE_MOVED,
            "strings": strings,
        },
    }
    return render(request, "vms/console.html", context)


@login_required
@require_POST
def console_ticket(request, cluster_slug, name):
    """A single-use ticket for the console websocket, valid TICKET_SECONDS."""
    vm = _console_vm(request, cluster_slug, name)
    if (refusal := consumers.console_refusal(vm)) is not None:
        return JsonResponse({"error": str(CLOSE_MESSAGES[refusal])}, status=409)
    if not request.session.session_key:
        request.session.save()
    ticket = issue_ticket(request.user, vm, request.session.session_key)
    return JsonResponse(
        {
            "ticket": ticket,
            # The websocket route is in ganetiweb/routing.py, outside Django's URLconf.
            "path": f"/ws/console/{vm.pk}/?ticket={ticket}",
            "expires_in": TICKET_SECONDS,
        }
    )

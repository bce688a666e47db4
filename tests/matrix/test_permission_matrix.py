"""Every URL of the project, tried by seven personas: each gets the status its rights give.

The table below names every URL pattern (the first test fails when a new one is not in it).
A user who may not see an object gets 404; one who sees it but may not act gets 403; anonymous
users are sent to log in. POST is tried on every state-changing URL, with an empty form: the
allowed get past the permission check (a redirect after doing it, or the form again with its
errors), the others are stopped before anything changes.
"""

import re

import django_rq
import pytest
from django.apps import apps
from django.test import Client
from rq import SimpleWorker

from tests.matrix.urls import all_patterns
from tests.matrix.world import (
    CLUSTER_PERMISSIONS,
    PERSONAS,
    VM_PERMISSIONS,
    build_course_world,
    build_world,
)
from vms import operations
from vms.forms.actions import ActionForm

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"


# Expected statuses per persona, by rule ---------------------------------------------------------
def everyone(status):
    return dict.fromkeys(PERSONAS, status)


def logged_in(status=200):
    return {**everyone(status), "anonymous": 302}


def superuser_only(status=200):
    return {**logged_in(403), "superuser": status}


def see_vm(status=200):
    """Everyone but the outsider sees web1."""
    return {**logged_in(status), "outsider": 404}


def vm_perm(perm, status=200):
    return {
        persona: 302
        if persona == "anonymous"
        else 404
        if persona == "outsider"
        else status
        if perm in VM_PERMISSIONS[persona]
        else 403
        for persona in PERSONAS
    }


see_cluster = see_vm  # seeing web1 shows its cluster


def cluster_perm(perm, status=200):
    return {
        persona: 302
        if persona == "anonymous"
        else 404
        if persona == "outsider"
        else status
        if perm in CLUSTER_PERMISSIONS[persona]
        else 403
        for persona in PERSONAS
    }


def cluster_superuser(status=200):
    """Connection settings: superusers only; who sees the cluster gets 403, others 404."""
    return {**cluster_perm("admin", 403), "superuser": status}


def requester_and_admins(status=200):
    """The owner asked; the cluster's admins decide; the rest do not see the request."""
    return {**logged_in(404), "owner": status, "cluster_admin": status, "superuser": status}


def admins_of_request(status):
    return {**requester_and_admins(status), "owner": 403}


def requester_only(status):
    return {**requester_and_admins(403), "owner": status}


def cluster_admins_on_vm(status=200):
    """Changing a VM's owner is for its cluster's admins, even when one owns the VM."""
    return {**vm_perm("admin", 403), "cluster_admin": status, "superuser": status}


def teachers(status, in_group=404, student=404, other=404):
    """Course pages: the teacher (the cluster admin) and superusers get `status`; the member of
    the course group the URLs name (the power user), a student of another group (the viewer) and
    people outside the course (owner, outsider) get theirs."""
    return {
        "anonymous": 302,
        "outsider": other,
        "owner": other,
        "viewer": student,
        "power_user": in_group,
        "cluster_admin": status,
        "superuser": status,
    }


def staff(status=200):
    """Django's admin: everyone but the superuser is sent to the admin's login."""
    return {**everyone(302), "superuser": status}


# An empty POST to an operation without options asks for it: the VM (stopped) is started, the
# others are refused with a message on the VM's page. Operations with options show the form again
# (those listed here have none that is required).
POSTED = {"start": 302, "force-off": 302, "reboot": 302, "migrate": 302, "failover": 302}


def vm_action_cases():
    """The rows of every declared VM operation: its URL, by its own permission."""
    return [
        (VM + (op.slug,), method, vm_perm(op.permission, status))
        for op in operations.vm_operations()
        for method, status in (
            ("get", 200),
            ("post", POSTED.get(op.slug, 302 if op.form is ActionForm else 200)),
        )
    ]


# The URLs -------------------------------------------------------------------------------------
# name -> list of (arguments, method, expected). Arguments are filled from the world.
VM = ("{cluster}", "{vm}")
C, A, G, P = "{course}", "{assignment}", "{group}", "{page}"
CASES = {
    "dashboard": [((), "get", logged_in())],
    "rq_schedulers": [(("0",), "get", staff(404))],
    "login": [((), "get", everyone(200))],
    "logout": [((), "get", everyone(405)), ((), "post", everyone(302))],
    "password_change": [((), "get", logged_in()), ((), "post", logged_in(200))],
    "password_change_done": [((), "get", logged_in())],
    "set_language": [((), "post", everyone(302))],
    # A scraper's bearer token, not a session: off (404) while METRICS_TOKEN is empty, as here;
    # tests/test_prometheus.py covers the token.
    "metrics": [((), "get", everyone(404))],
    "vms:cluster_list": [((), "get", logged_in())],
    "clusters:create": [((), "get", superuser_only()), ((), "post", superuser_only(200))],
    "vms:cluster": [(("{cluster}",), "get", see_cluster())],
    "clusters:edit": [
        (("{cluster}",), "get", cluster_perm("admin")),
        (("{cluster}",), "post", cluster_perm("admin", 200)),
    ],
    "clusters:sync": [(("{cluster}",), "post", cluster_perm("admin", 302))],
    "clusters:test": [(("{cluster}",), "post", cluster_perm("admin", 302))],
    "clusters:connection": [
        (("{cluster}",), "get", cluster_superuser()),
        (("{cluster}",), "post", cluster_superuser(200)),
    ],
    "clusters:trust": [(("{cluster}",), "post", cluster_superuser(302))],
    "clusters:import": [
        (("{cluster}",), "get", cluster_perm("admin")),
        (("{cluster}",), "post", cluster_perm("admin", 200)),
    ],
    "vms:cluster_quotas": [
        (("{cluster}",), "get", cluster_perm("admin")),
        (("{cluster}",), "post", cluster_perm("admin", 302)),
    ],
    "vms:owner_quota": [
        (("{cluster}", "user:{owner}"), "get", cluster_perm("admin")),
        (("{cluster}", "user:{owner}"), "post", cluster_perm("admin", 302)),
    ],
    "vms:node": [(("{cluster}", "{node}"), "get", see_cluster())],
    "vms:node_action": [
        (("{cluster}", "{node}", "drain"), "post", cluster_perm("admin", 302)),
        (("{cluster}", "{node}", "evacuate"), "post", cluster_perm("migrate", 302)),
    ],
    "vms:list": [((), "get", logged_in())],
    "vms:create_start": [((), "get", logged_in())],
    "vms:create": [
        (("{cluster}",), "get", cluster_perm("request_vm")),
        (("{cluster}",), "post", cluster_perm("request_vm", 200)),
    ],
    "vms:detail": [(VM, "get", see_vm())],
    "vms:action": vm_action_cases(),
    "jobs:list": [((), "get", logged_in())],
    "jobs:detail": [(("{job}",), "get", see_vm())],
    "jobs:cancel": [(("{job}",), "post", {**vm_perm("power", 302), "viewer": 403})],
    "jobs:retry": [(("{job}",), "post", vm_perm("power", 302))],
    "vms:request_list": [((), "get", logged_in())],
    "vms:quota_request_new": [
        (("{cluster}",), "get", cluster_perm("request_vm")),
        (("{cluster}",), "post", cluster_perm("request_vm", 200)),
    ],
    "vms:vm_request": [(("{vm_request}",), "get", requester_and_admins())],
    "vms:vm_request_approve": [(("{vm_request}",), "post", admins_of_request(200))],
    "vms:vm_request_refuse": [(("{vm_request}",), "post", admins_of_request(302))],
    "vms:vm_request_withdraw": [(("{vm_request}",), "post", requester_only(302))],
    "vms:quota_request": [(("{quota_request}",), "get", requester_and_admins())],
    "vms:quota_request_approve": [(("{quota_request}",), "post", admins_of_request(200))],
    "vms:quota_request_refuse": [(("{quota_request}",), "post", admins_of_request(302))],
    "vms:quota_request_withdraw": [(("{quota_request}",), "post", requester_only(302))],
    # Sharing, ownership, the audit log and notifications.
    "clusters:permissions": [
        (("{cluster}",), "get", cluster_perm("admin")),
        (("{cluster}",), "post", cluster_perm("admin", 200)),
    ],
    "vms:permissions": [(VM, "get", vm_perm("admin")), (VM, "post", vm_perm("admin", 200))],
    "vms:owner": [
        (VM, "get", cluster_admins_on_vm()),
        (VM, "post", cluster_admins_on_vm(200)),
    ],
    "vms:console": [(VM, "get", vm_perm("console"))],
    # web1 is stopped: those allowed get past the check and hear that there is no screen (409).
    "vms:console_ticket": [(VM, "post", vm_perm("console", 409))],
    "audit:list": [((), "get", {**logged_in(403), "cluster_admin": 200, "superuser": 200})],
    "notifications:list": [((), "get", logged_in())],
    "notifications:mark_all_read": [((), "post", logged_in(302))],
    # Coursework: the cluster admin teaches the course; see tests/matrix/world.py.
    "courses:list": [((), "get", logged_in())],
    "courses:create": [((), "get", teachers(200, in_group=403, student=403, other=403))],
    "courses:detail": [((C,), "get", teachers(200, in_group=200, student=200))],
    "courses:assignment": [((C, A), "get", teachers(200, in_group=200, student=200))],
    "courses:edit": [((C,), "get", teachers(200, in_group=403, student=403))],
    "courses:students": [
        ((C,), "get", teachers(200, in_group=403, student=403)),
        ((C,), "post", teachers(200, in_group=403, student=403)),
    ],
    "courses:assignment_create": [((C,), "get", teachers(200, in_group=403, student=403))],
    "courses:assignment_edit": [((C, A), "get", teachers(200, in_group=403, student=403))],
    "courses:assignment_flags": [((C, A), "post", teachers(302, in_group=403, student=403))],
    "courses:grades": [((C, A), "get", teachers(200, in_group=403, student=403))],
    "courses:grades_csv": [((C, A), "get", teachers(200, in_group=403, student=403))],
    "courses:grade_group": [((C, A, G), "get", teachers(200, in_group=403, student=403))],
    "courses:group_create": [((C,), "post", teachers(302, in_group=302, student=302))],
    "courses:group_join": [((C,), "post", teachers(302, in_group=302, student=302))],
    "courses:group": [((C, G), "get", teachers(200, in_group=200))],
    "courses:group_leave": [((C, G), "post", teachers(302, in_group=302))],
    "courses:group_members": [((C, G), "post", teachers(302, in_group=403, student=403))],
    "courses:group_reopen": [((C, G), "post", teachers(302, in_group=403, student=403))],
    "courses:group_cluster": [((C, G), "get", teachers(200, in_group=200))],
    "courses:group_trust": [((C, G), "post", teachers(302, in_group=302))],
    "courses:checks_run": [((C, G), "post", teachers(302, in_group=302))],
    "courses:check_run": [((C, G, "{run}"), "get", teachers(200, in_group=200))],
    "courses:wiki": [((C, G), "get", teachers(302, in_group=302))],
    "courses:wiki_create": [((C, G), "get", teachers(403, in_group=200))],
    "courses:wiki_page": [((C, G, P), "get", teachers(200, in_group=200))],
    "courses:wiki_edit": [((C, G, P), "get", teachers(403, in_group=200))],
    "courses:wiki_history": [((C, G, P), "get", teachers(200, in_group=200))],
    "courses:wiki_diff": [
        ((C, G, P, "?from={rev0}&to={rev1}"), "get", teachers(200, in_group=200))
    ],
    "courses:wiki_revision": [((C, G, P, "{rev0}"), "get", teachers(200, in_group=200))],
    "courses:wiki_restore": [((C, G, P, "{rev0}"), "post", teachers(403, in_group=302))],
    "courses:wiki_images": [((C, G, P), "post", teachers(403, in_group=302))],
    "courses:wiki_image": [((C, G, P, "{image}"), "get", teachers(200, in_group=200))],
}
# POST-only views answer a logged-in GET with 405, before any permission check.
POST_ONLY = [name for name, cases in CASES.items() if {c[1] for c in cases} == {"post"}]
for name in POST_ONLY:
    if name not in ("set_language",):
        CASES[name] = CASES[name] + [(CASES[name][0][0], "get", logged_in(405))]

# Django's admin (and the RQ dashboard inside it): staff only. What the superuser gets where an
# object or a queue item does not exist is listed; everything else answers 200.
ADMIN_PLACEHOLDERS = {
    "object_id": None,  # the model's first object, from the world
    "queue_index": "0",
    "job_id": "no-such-job",
    "result_id": "no-such-result",
    "key": "no-such-worker",
    "scheduler_index": "0",
    "connection_index": "0",
    "scheduler_name": "no-such-scheduler",
    "cron_job_name": "no-such-job",
    "token": "no-such-token",
}
SUPERUSER_ADMIN_STATUS = {
    "admin:None": 404,  # the admin's catch-all, for a page that is not
    "admin:login": 302,  # already logged in: to the admin's index
    "admin:logout": 405,  # POST only
    "admin:autocomplete": 403,  # without the field it completes
    "/admin/django_rq/dashboard/stats.json/no-such-token/": 302,  # a wrong API token
    "admin:django_rq_scheduler_jobs": 404,  # answered by ganetiweb.views.rq_schedulers
    "admin:django_rq_result_detail": 404,
    "admin:django_rq_stop_job": 405,
    "admin:django_rq_confirm_action": 302,  # actions are POSTed from the queue's page
    "admin:django_rq_actions": 302,
    "admin:django_rq_cron_scheduler_detail": 404,
    "admin:django_rq_cron_job_detail": 404,
    "admin:django_rq_dashboard_add": 403,  # nothing to add by hand
    "admin:audit_auditentry_add": 403,  # the audit log is written by the application only
    # django-axes records login attempts itself; admins unlock by deleting them.
    "admin:axes_accessattempt_add": 403,
    "admin:axes_accesslog_add": 403,
    "admin:axes_accessfailurelog_add": 403,
}
# What the other personas get where it is not the admin's login page.
OTHERS_ADMIN_STATUS = {
    "admin:login": 200,
    "admin:logout": 302,  # to the admin's index, which asks them to log in
    "admin:django_rq_home_json": 401,  # the statistics answer API tokens, not sessions
    # django-rq's own Prometheus page, there since prometheus-client is installed: staff or
    # its API token (ganetiweb's /metrics is the export, with its own token).
    "admin:django_rq_metrics": 401,
    "/admin/django_rq/dashboard/stats.json/no-such-token/": 302,  # a wrong token: to log in
}


def _admin_urls(world):
    """(url, name) for each admin pattern, with its placeholders filled."""
    seen = set()
    for name, route in all_patterns():
        if not name.startswith("admin:"):
            continue
        model = _admin_model(name)
        # django_rq's dashboard is a model without a table: it has no objects to open.
        obj = model.objects.first() if model is not None and model._meta.managed else None
        if "<path:object_id>" in route and obj is None:
            continue  # no object of that model in the world: the list page covers it
        if "<id>" in route:  # the user admin's password page
            obj = world.users["owner"]
        for url in _fill_admin_route(route, obj):
            if (url, name) not in seen:
                seen.add((url, name))
                yield url, name


def _admin_model(name):
    match = re.fullmatch(r"admin:(\w+?)_(\w+)_(changelist|add|change|delete|history)", name)
    if not match:
        return None
    for app_label in sorted({m._meta.app_label for m in apps.get_models()}, key=len, reverse=True):
        if name.startswith(f"admin:{app_label}_"):
            model_name = name[len(f"admin:{app_label}_") :].rsplit("_", 1)[0]
            try:
                return apps.get_model(app_label, model_name)
            except LookupError:
                return None
    return None


def _fill_admin_route(route, obj):
    route = route.replace("^", "").replace("$", "").replace("/?", "/")
    route = re.sub(r"\(\?P<token>[^)]*\)\?", "no-such-token", route)
    route = route.replace("(?P<url>.*)", "no-such-page/")
    alternatives = re.search(r"\(\?P<app_label>([^)]*)\)", route)
    routes = (
        [route.replace(alternatives.group(0), label) for label in alternatives.group(1).split("|")]
        if alternatives
        else [route]
    )
    for filled in routes:
        for converter, key in re.findall(r"<(?:(\w+):)?(\w+)>", filled):
            value = str(obj.pk) if key in ("object_id", "id") else ADMIN_PLACEHOLDERS[key]
            pattern = f"<{converter}:{key}>" if converter else f"<{key}>"
            filled = filled.replace(pattern, value)
        yield "/" + (filled[:-1] if filled.endswith("stats.json/") else filled)


# The tests ------------------------------------------------------------------------------------
def test_every_url_pattern_is_in_the_matrix():
    names = {name for name, _route in all_patterns() if not name.startswith("admin:")}
    assert sorted(names - set(CASES)) == [], "add these URLs to CASES"
    assert sorted(set(CASES) - names) == [], "these URLs are gone: remove them from CASES"


def _client(world, persona):
    client = Client()
    if persona != "anonymous":
        client.force_login(world.users[persona])
    return client


def _url(world, courses, name, args):
    from django.urls import reverse

    query = args[-1] if args and str(args[-1]).startswith("?") else ""
    args = args[:-1] if query else args
    values = {
        "course": courses.course.slug,
        "assignment": courses.assignment.pk,
        "group": courses.group.pk,
        "page": courses.page.slug,
        "rev0": courses.revisions[0].pk,
        "rev1": courses.revisions[1].pk,
        "image": courses.image.pk,
        "run": courses.run.pk,
        "cluster": world.cluster.slug,
        "vm": world.vm.name,
        "node": world.node.name,
        "job": world.job.pk,
        "owner": world.users["owner"].pk,
        "vm_request": world.vm_request.pk,
        "quota_request": world.quota_request.pk,
    }
    return reverse(name, args=[str(arg).format(**values) for arg in args]) + query.format(**values)


MATRIX = [
    pytest.param(
        name,
        args,
        method,
        persona,
        expected[persona],
        id=f"{name}-{'-'.join(map(str, args))}-{method}-{persona}",
    )
    for name, cases in CASES.items()
    for args, method, expected in cases
    for persona in PERSONAS
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "args", "method", "persona", "expected"), MATRIX)
def test_each_persona_gets_the_status_its_rights_give(
    name, args, method, persona, expected, worker, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    world = build_world()
    url = _url(world, build_course_world(world.users), name, args)

    response = getattr(_client(world, persona), method)(url)

    assert response.status_code == expected, f"{persona} {method.upper()} {url}"
    # Anonymous people are sent to log in, except where no login is involved.
    if persona == "anonymous" and name not in ("login", "logout", "set_language", "metrics"):
        assert response["Location"].startswith(ADMIN_LOGIN if "/admin/" in url else LOGIN)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_the_admin_is_for_superusers_only(persona, worker):
    world = build_world()
    client = _client(world, persona)
    client.raise_request_exception = False
    # A real job and a real worker, for the RQ dashboard's pages about one of them.
    queue = django_rq.get_queue("default")
    ADMIN_PLACEHOLDERS["job_id"] = queue.enqueue(len, "x").id
    rq_worker = SimpleWorker([queue], connection=queue.connection)
    rq_worker.register_birth()
    ADMIN_PLACEHOLDERS["key"] = rq_worker.key
    wrong = []
    for url, name in _admin_urls(world):
        for method in ("get", "post") if persona != "superuser" else ("get",):
            response = getattr(client, method)(url)
            if persona == "superuser":
                expected = SUPERUSER_ADMIN_STATUS.get(url, SUPERUSER_ADMIN_STATUS.get(name, 200))
            else:
                expected = OTHERS_ADMIN_STATUS.get(url, OTHERS_ADMIN_STATUS.get(name, 302))
            if response.status_code != expected:
                wrong.append(f"{method.upper()} {url} ({name}): {response.status_code}")
            elif (
                persona != "superuser"
                and name not in OTHERS_ADMIN_STATUS
                and not response["Location"].startswith(ADMIN_LOGIN)
            ):
                wrong.append(f"{method.upper()} {url} ({name}) -> {response['Location']}")
    assert wrong == [], "\n".join(wrong)

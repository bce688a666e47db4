"""insert_rows() writes what bulk_create() writes, on SQLite and on PostgreSQL.

The same rows are written both ways (with the name, or another text column, prefixed "a-" and
"b-"), and every concrete column but the primary key is read back and compared, through the ORM
and as the driver returns it. The PostgreSQL tests use a database of their own in the session's
throwaway server (postgres_server), reached as a second connection alias.
"""

import uuid
from datetime import UTC, datetime, timedelta, timezone
from unittest import mock
from zoneinfo import ZoneInfo

import psycopg
import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connections, transaction
from django.utils.translation import gettext_lazy

from clusters.bulk import insert_rows
from clusters.crypto import EncryptedTextField
from clusters.models import Cluster, Network, Node
from jobs.models import Job
from vms.models import VirtualMachine

NOW = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)  # what auto_now_add takes
POSTGRES = "bulk_postgres"  # the connection alias of the PostgreSQL tests


def _parents(using):
    cluster = Cluster.objects.using(using).create(name="alpha", slug="alpha")
    node = Node.objects.using(using).create(cluster=cluster, name="node1", role="master")
    user = User.objects.db_manager(using).create_user("alice")
    group = Group.objects.using(using).create(name="staff")
    return cluster, node, user, group


def _vm_rows(cluster, node, user, group):
    return [
        {  # every column, with text that COPY and JSON have to escape
            "cluster_id": cluster.pk,
            "name": "everything",
            "uuid": str(uuid.UUID(int=1)),
            "primary_node_id": node.pk,
            "secondary_nodes": ["node2", "nöde3"],
            "wanted_state": "up",
            "actual_state": "running",
            "status": "tab\t, line\n, \\, ' \" \\N",
            "memory": 2048,
            "vcpus": 4,
            "disk_template": "drbd",
            "disks": [{"size": 10240, "name": "root", "uuid": ""}, {"size": 1, "name": "\\N"}],
            "nics": [{"mac": "aa:00:00:00:00:01", "ip": None, "link": "br\t0", "name": "日本"}],
            "os": "\\N",
            "vnc_host": "tab\there, new\nline, back\\slash, quotes ' \" and \\N, 日本",
            "tags": {"nested": {"list": [1, 2.5, True, None, "x\ny"]}},
            "vnc_port": 11000,
            "owner_user_id": user.pk,
            "created_on_cluster": datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
            "modified_on_cluster": datetime(2026, 7, 3, 4, 5, 6, tzinfo=ZoneInfo("Europe/Berlin")),
            "missing": True,
            "missing_since": datetime(2026, 1, 1, 23, 59, tzinfo=timezone(timedelta(hours=-3))),
            "first_seen_at": datetime(2000, 1, 1, tzinfo=UTC),  # auto_now_add: now wins
        },
        {"cluster_id": cluster.pk, "name": "defaults"},  # the other columns' defaults
        {  # values of other types, which the fields' get_db_prep_save() convert
            "cluster_id": cluster.pk,
            "name": "converted",
            "primary_node_id": str(node.pk),
            "secondary_nodes": "a JSON string",
            "status": gettext_lazy("running"),
            "memory": "512",
            "vcpus": 2.0,
            "tags": ("a", "tuple"),
            "disks": [],
            "owner_group_id": group.pk,
            "missing": 1,
        },
    ]


def _job_rows(cluster, node, user, group):
    # The primary key is a uuid4 default; retry_of is a foreign key to it.
    earlier = Job.objects.using(cluster._state.db).create(
        kind="start", cluster=cluster, target="earlier"
    )
    return [
        {
            "kind": "migrate",
            "cluster_id": cluster.pk,
            "node_id": node.pk,
            "target": "everything",
            "params": {"target_node": "node2", "live": True},
            "requested_by_id": user.pk,
            "status": "running",
            "progress": 50,
            "log": "one\ntwo\\three",
            "retry_of_id": earlier.pk,
            "started_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        },
        {"kind": "start", "cluster_id": cluster.pk, "target": "defaults"},
    ]


def _cluster_rows(cluster, node, user, group):
    # rapi_password is an EncryptedTextField: its own get_prep_value() encrypts it.
    return [
        {
            "name": "secret",
            "slug": "secret",
            "rapi_password": "hunter2",
            "rapi_port": 5081,
            "info": {"name": "secret.example.org"},
            "last_sync_duration": 1.25,
            "last_sync_at": datetime(2026, 1, 2, tzinfo=UTC),
        },
        {"name": "plain", "slug": "plain", "kind": "libvirt"},
    ]


def _node_rows(cluster, node, user, group):
    figures = {"memory_total": 32768, "memory_free": None, "disk_total": 2**40, "cpus": 8}
    return [
        {"cluster_id": cluster.pk, "name": "big", "role": "regular", **figures},
        {"cluster_id": cluster.pk, "name": "bare", "role": "offline"},
    ]


def _network_rows(cluster, node, user, group):
    return [
        {"cluster_id": cluster.pk, "name": "lan", "kind": "routed", "subnet": "192.0.2.0/24"},
        {"cluster_id": cluster.pk, "name": "empty", "kind": "bridged", "free_count": None},
    ]


# (model, rows, the text columns prefixed "a-"/"b-" to tell the two writes apart)
CASES = {
    "vm": (VirtualMachine, _vm_rows, ["name"]),
    "job": (Job, _job_rows, ["target"]),
    "cluster": (Cluster, _cluster_rows, ["name", "slug"]),
    "node": (Node, _node_rows, ["name"]),
    "network": (Network, _network_rows, ["name"]),
}


def _assert_written_alike(case, using):
    """Write the case's rows through bulk_create() and insert_rows(); compare what was stored."""
    model, make_rows, keys = CASES[case]
    rows = make_rows(*_parents(using))

    def prefixed(prefix):
        return [{**row, **{key: prefix + row[key] for key in keys}} for row in rows]

    with mock.patch("django.utils.timezone.now", return_value=NOW):
        model.objects.using(using).bulk_create([model(**row) for row in prefixed("a-")])
        insert_rows(model, prefixed("b-"), using=using)
    connections[using].check_constraints()  # foreign keys, else deferred to the commit
    by_bulk_create = _read_back(model, using, keys, "a-")
    by_insert_rows = _read_back(model, using, keys, "b-")
    assert len(by_insert_rows) == len(rows)
    assert by_insert_rows == by_bulk_create
    # As stored, too: SQLite keeps JSON and datetimes as the text it was given.
    assert _read_raw(model, using, keys, "b-") == _read_raw(model, using, keys, "a-")


def _read_back(model, using, keys, prefix):
    """Every concrete column but the primary key, through the ORM, prefixes taken off."""
    columns = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
    found = model.objects.using(using).filter(**{f"{keys[0]}__startswith": prefix})
    rows = list(found.order_by(keys[0]).values(*columns))
    for row in rows:
        row.update({key: row[key].removeprefix(prefix) for key in keys})
    return rows


def _read_raw(model, using, keys, prefix):
    """The same columns as the driver returns them, but the encrypted ones (a new IV each)."""
    opts, connection = model._meta, connections[using]
    fields = [f for f in opts.concrete_fields if not f.primary_key]
    fields = [f for f in fields if not isinstance(f, EncryptedTextField)]
    quote = connection.ops.quote_name
    key = quote(opts.get_field(keys[0]).column)
    columns = ", ".join(quote(f.column) for f in fields)
    sql = f"SELECT {columns} FROM {quote(opts.db_table)} WHERE {key} LIKE %s ORDER BY {key}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [f"{prefix}%"])
        rows = [dict(zip([f.attname for f in fields], row, strict=True)) for row in cursor]
    for row in rows:
        row.update({key: row[key].removeprefix(prefix) for key in keys})
    return rows


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES)
def test_it_writes_what_bulk_create_writes_on_sqlite(case):
    _assert_written_alike(case, "default")


@pytest.mark.parametrize("case", CASES)
def test_it_writes_what_bulk_create_writes_on_postgresql(case, postgres_alias, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic(using=POSTGRES):
        _assert_written_alike(case, POSTGRES)
        transaction.set_rollback(True, using=POSTGRES)


@pytest.mark.django_db
def test_auto_now_add_and_callable_defaults_are_filled_in():
    cluster, *_ = _parents("default")
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        insert_rows(Job, [{"kind": "start", "cluster_id": cluster.pk, "target": t} for t in "xy"])
    jobs = list(Job.objects.filter(target__in=["x", "y"]))
    assert [job.created_at for job in jobs] == [NOW, NOW]
    assert len({job.pk for job in jobs}) == 2  # a uuid4 each
    assert [job.params for job in jobs] == [{}, {}]


@pytest.mark.django_db
def test_it_refuses_a_column_the_model_does_not_have():
    cluster, *_ = _parents("default")
    with pytest.raises(TypeError, match="VirtualMachine has no column for cluster, nmae"):
        insert_rows(VirtualMachine, [{"cluster": cluster, "nmae": "x"}])
    assert not VirtualMachine.objects.exists()


@pytest.fixture(scope="module")
def postgres_alias(postgres_server, django_db_setup, django_db_blocker):
    """The project's tables in a new database of the test PostgreSQL, as connection POSTGRES.

    django_db_setup comes first so that "default" is the test database meanwhile.
    """
    database = f"gwtest_bulk_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_server.url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    config = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": database,
        "USER": postgres_server.user,
        "PASSWORD": postgres_server.password,
        "HOST": "127.0.0.1",
        "PORT": str(postgres_server.port),
    }
    # Django fills in the keys left out, as it does for each entry of DATABASES.
    filled = connections.configure_settings({"default": {}, POSTGRES: config})
    connections.settings[POSTGRES] = filled[POSTGRES]
    try:
        with django_db_blocker.unblock():
            call_command("migrate", database=POSTGRES, verbosity=0)
        yield POSTGRES
    finally:
        connections[POSTGRES].close()
        del connections[POSTGRES]
        del connections.settings[POSTGRES]
        with psycopg.connect(postgres_server.url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{database}"')

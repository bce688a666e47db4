"""Insert many new rows fast, writing what ``bulk_create()`` would write.

Storing the 10,000 VMs of bench/sync.py took ``bulk_create()`` 2.9 s on SQLite and 4.5 s on
PostgreSQL (with building the model instances, and the commit): its insert compiler prepares
each of the 240,000 values on its own, and on PostgreSQL psycopg escapes every element of one
array per column in Python. ``insert_rows()`` takes 0.8 s and 1.0 s for the same rows: it reads
the columns from the model, decides once per column how its values become what the database
driver takes, prepares them a column at a time, and hands the rows to the driver's bulk path:
``cursor.executemany()`` on SQLite, ``COPY ... FROM STDIN`` on PostgreSQL. Other databases get
``bulk_create()`` itself.

A value is prepared as ``bulk_create()`` prepares it, by the field's ``get_db_prep_save()``,
except for a few of Django's own field classes (not subclasses, which may change a value, as
``clusters.crypto.EncryptedTextField`` does) given a plain value of the usual type, whose
preparation is known: a ``str`` for a ``CharField`` or an ``int`` for an ``IntegerField`` is
passed as it is, a ``dict`` or ``list`` for a ``JSONField`` goes straight to the backend's
``adapt_json_value()``, an aware ``datetime`` to ``adapt_datetimefield_value()``.
tests/clusters/test_bulk.py reads back every column of rows written both ways, on SQLite and on
PostgreSQL.

What it does not do: return or set primary keys (there are no instances), send signals
(``bulk_create()`` sends none either), take expressions as values, or handle models of more
than one table, fields with an SQL placeholder of their own (``get_placeholder``), fields that
change a value in ``pre_save()`` other than by ``auto_now``/``auto_now_add``, or database
defaults (``db_default``) a row leaves out: it raises for those rather than write something
else. ``auto_now``/``auto_now_add`` take one timestamp for the whole call where
``bulk_create()`` takes one per row, microseconds apart.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from contextlib import nullcontext

from django.db import connections, models, router, transaction
from django.db.models.fields import NOT_PROVIDED

BATCH = 2000

# Django's field classes whose get_db_prep_save() gives back a value of this exact type (or
# None) unchanged, on SQLite and PostgreSQL. (On PostgreSQL it wraps an int in psycopg's Int4
# or Int8 for server-side binding; COPY writes the same digits either way.)
_UNCHANGED = {
    models.CharField: str,
    models.TextField: str,
    models.SlugField: str,
    models.EmailField: str,
    models.URLField: str,
    models.BooleanField: bool,
    models.FloatField: float,
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.SmallIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveBigIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.AutoField: int,
    models.BigAutoField: int,
    models.SmallAutoField: int,
}

# A function from a batch of rows to the list of one column's values, ready for the driver.
Column = Callable[[list[dict]], list]


def insert_rows(model, rows: list[dict], *, using: str | None = None, batch: int = BATCH):
    """Insert ``rows`` as new rows of ``model``'s table, as ``bulk_create()`` would.

    Each row maps field attnames (``cluster_id``, not ``cluster``) to plain values; a field a
    row leaves out gets its default, as in ``model(**row)``. The automatic primary key is the
    database's. Runs in the caller's transaction, or in one of its own.
    """
    if not rows:
        return
    alias = using or router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor not in ("sqlite", "postgresql"):
        objs = [model(**row) for row in rows]
        model._base_manager.using(alias).bulk_create(objs, batch_size=batch)
        return
    fields, columns = _columns(model, connection, rows)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(field.column) for field in fields)
    batches = (
        zip(*[column(rows[start : start + batch]) for column in columns], strict=True)
        for start in range(0, len(rows), batch)
    )
    with transaction.atomic(using=alias, savepoint=False), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _copy(cursor, f"COPY {table} ({names}) FROM STDIN", batches)
        else:
            marks = ", ".join(["%s"] * len(fields))
            sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 (quoted names)
            for values in batches:
                cursor.executemany(sql, list(values))


def _copy(cursor, statement: str, batches) -> None:
    """Stream the rows through one COPY.

    It is logged like a query when Django logs queries (DEBUG, CaptureQueriesContext), but
    ``connection.execute_wrappers`` do not see it: psycopg's ``copy()`` is not ``execute()``.
    """
    connection = cursor.db
    connection.validate_no_broken_transaction()
    logged = getattr(cursor, "debug_sql", None)  # only CursorDebugWrapper has it
    with (
        logged(statement) if logged else nullcontext(),
        connection.wrap_database_errors,
        cursor.cursor.copy(statement) as copy,
    ):
        for values in batches:
            for row in values:
                copy.write_row(row)


def _columns(model, connection, rows) -> tuple[list[models.Field], list[Column]]:
    """The fields bulk_create() would write, and how to get each one's values from rows."""
    opts = model._meta
    for parent in opts.all_parents:
        if parent._meta.concrete_model is not opts.concrete_model:
            raise ValueError(f"insert_rows() cannot write {model.__name__}: more than one table")
    # bulk_create() leaves out generated fields and, for new rows, the automatic primary key.
    fields = [f for f in opts.concrete_fields if not f.generated]
    fields = [f for f in fields if not isinstance(f, models.AutoField)]
    given = set().union(*rows)
    unknown = given - {f.attname for f in fields}
    if unknown:
        raise TypeError(f"{model.__name__} has no column for {', '.join(sorted(unknown))}")
    return fields, [_column(model, field, connection, given) for field in fields]


def _column(model, field, connection, given: set[str]) -> Column:
    label = f"{model.__name__}.{field.name}"
    if getattr(field, "get_placeholder", None) is not None:
        raise TypeError(f"insert_rows() cannot write {label}: it has an SQL placeholder")
    prepare = _preparer(field, connection)
    if isinstance(field, (models.DateField, models.TimeField)):
        if field.auto_now or field.auto_now_add:
            now = prepare([field.pre_save(model(), add=True)])[0]  # as bulk_create() takes it
            return lambda rows: [now] * len(rows)
    elif type(field).pre_save is not models.Field.pre_save:
        raise TypeError(f"insert_rows() cannot write {label}: its pre_save() needs an instance")
    attname = field.attname
    if field.db_default is not NOT_PROVIDED:

        def required(rows):
            try:
                return prepare([row[attname] for row in rows])
            except KeyError:
                raise ValueError(f"insert_rows() needs {label}: it has a db_default") from None

        return required
    if field.has_default() and callable(field.default):  # a new value each time: uuid4, list
        get_default = field.get_default
        return lambda rows: prepare(
            [row[attname] if attname in row else get_default() for row in rows]
        )
    default = field.get_default()
    if attname not in given:
        value = prepare([default])[0]
        return lambda rows: [value] * len(rows)
    return lambda rows: prepare([row.get(attname, default) for row in rows])


def _preparer(field, connection) -> Callable[[list], list]:
    """How a list of one field's values becomes what the driver takes: get_db_prep_save() on
    each, but quicker for the plain values of some of Django's own fields (see the docstring)."""
    ops = connection.ops

    def generic(value):
        return field.get_db_prep_save(value, connection)

    kind = type(field)
    if kind in (models.ForeignKey, models.OneToOneField):
        # ForeignKey.get_db_prep_save(): None stays None, any other value is the target's.
        kind = type(field.target_field)
    plain = _UNCHANGED.get(kind)
    if plain is not None:
        return lambda values: [
            value if type(value) is plain or value is None else generic(value) for value in values
        ]
    if kind is models.JSONField:
        adapt_json, encoder = ops.adapt_json_value, field.encoder

        def json_value(value):  # JSONField.get_db_prep_save(): None is SQL NULL
            if value is None:
                return None
            if type(value) in (dict, list):
                return adapt_json(value, encoder)
            return generic(value)

        return lambda values: [json_value(value) for value in values]
    if kind is models.DateTimeField:
        adapt_datetime = ops.adapt_datetimefield_value

        def datetime_value(value):
            if value is None:
                return None
            if type(value) is datetime.datetime and value.utcoffset() is not None:
                return adapt_datetime(value)
            return generic(value)  # a naive datetime: get_prep_value() warns and makes it aware

        return lambda values: [datetime_value(value) for value in values]
    return lambda values: [generic(value) for value in values]

"""System checks for mistakes in how the site was installed."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import connections


@register()
def front_end_packages_installed(app_configs, **kwargs):
    """The npm packages must be there, or every page loses its styles and scripts."""
    errors = []
    for entry in settings.STATICFILES_DIRS:
        path = entry[1] if isinstance(entry, tuple) else entry
        if not path.is_dir():
            errors.append(
                Error(
                    f"Static files folder {path} is missing.",
                    hint="Run scripts/install (it runs 'npm ci' for the front-end packages).",
                    id="ganetiweb.E001",
                )
            )
    return errors


# Migrations that only a database made before the packages were re-cut (access, audit, jobs,
# notifications became apps; every app's migrations started again from 0001) has applied.
OLD_LAYOUT_MIGRATIONS = [("ganetiweb", "0001_initial"), ("vms", "0002_jobs")]


def old_layout(connection) -> bool:
    """Whether this database was made by ganetiweb before the re-cut: `migrate` cannot bring
    it forward (the new 0001 migrations would be taken as applied)."""
    if "django_migrations" not in connection.introspection.table_names():
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        applied = set(cursor.fetchall())
    return any(migration in applied for migration in OLD_LAYOUT_MIGRATIONS)


@register(Tags.database)
def database_is_of_this_layout(app_configs, databases=None, **kwargs):
    """Refuse to run on a database from before the re-cut, saying what to do with it."""
    errors = []
    for alias in databases or []:
        if old_layout(connections[alias]):
            errors.append(
                Error(
                    f"The database {alias!r} was made by an older ganetiweb whose tables this "
                    "version cannot migrate.",
                    hint="Move it aside and start a new one: for the demo's SQLite database, "
                    "'manage.py set_aside_old_database' does it (scripts/demo runs it).",
                    id="ganetiweb.E002",
                )
            )
    return errors

"""Loading the settings in a new process, as `manage.py` would, with chosen environment
variables: how tests see what start-up makes of the environment."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Prints the named settings as JSON; a timedelta as its seconds.
CODE = (
    "import datetime, json, sys, django; django.setup(); from django.conf import settings; "
    "print(json.dumps({name: getattr(settings, name) for name in sys.argv[1:]}, "
    "default=lambda v: v.total_seconds() if isinstance(v, datetime.timedelta) else str(v)))"
)


def start(tmp_path, names, **variables) -> subprocess.CompletedProcess:
    """Load the settings with only these variables (and an empty data directory) and print
    the named ones; return the finished process, whatever its exit status."""
    environment = {
        "PATH": "/usr/bin:/bin",
        "GANETIWEB_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "ganetiweb.settings",
        **variables,
    }
    return subprocess.run(
        [sys.executable, "-c", CODE, *names],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def settings_of(tmp_path, names, **variables) -> dict:
    """The named settings as a new process loads them; fails the test if it cannot start."""
    result = start(tmp_path, names, **variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])

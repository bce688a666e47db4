"""Every string a user reads ships in English and Brazilian Portuguese."""

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCES = [
    "manage.py",
    "ganetiweb",
    "access",
    "audit",
    "notifications",
    "jobs",
    "clusters",
    "vms",
    "courses",
    "templates",
    "locale",
]


def _entries(po_text):
    """Yield (msgid, [msgstr, ...], fuzzy) for each entry of a .po file (plurals have several)."""
    for block in po_text.split("\n\n"):
        lines = block.strip().splitlines()
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        msgid, msgstrs, target = [], [], None
        for line in lines:
            keyword, _, rest = line.partition(" ")
            if keyword == "msgid":
                target = msgid
            elif keyword.startswith("msgstr"):  # msgstr, or msgstr[N] of a plural
                msgstrs.append([])
                target = msgstrs[-1]
            elif keyword == "msgid_plural" or not line.startswith('"'):
                target = None
                continue
            else:
                rest = line
            if target is not None:
                target.append(rest.strip()[1:-1])
        if msgid:
            yield "".join(msgid), ["".join(parts) for parts in msgstrs], fuzzy


def test_every_message_in_the_code_has_a_brazilian_portuguese_translation(tmp_path):
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "pt_BR", "--no-obsolete", "-v0"],
        cwd=tmp_path,
        check=True,
        timeout=120,
    )
    po = (tmp_path / "locale/pt_BR/LC_MESSAGES/django.po").read_text()
    untranslated = [msgid for msgid, msgstrs, _ in _entries(po) if msgid and not all(msgstrs)]
    fuzzy = [msgid for msgid, _, is_fuzzy in _entries(po) if msgid and is_fuzzy]
    assert untranslated == [], "add these to locale/pt_BR/LC_MESSAGES/django.po"
    assert fuzzy == [], "review these fuzzy translations"

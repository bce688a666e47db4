"""The limits of the coursework, each a Django setting with the default below.

Students can type and click anything, so every amount of work or storage a group can ask for
is bounded. Read at call time (not import time), so that a test or a deployment's settings
change them; `COURSEWORK_CHECK_DEADLINE` is also read once when the job kinds are declared,
which is the RQ job timeout a worker applies (restart the workers after changing it).
"""

from django.conf import settings

DEFAULTS = {
    # Seconds a whole deployment check run may take, every request to the group's cluster
    # included; then the worker stops it and the run says so.
    "COURSEWORK_CHECK_DEADLINE": 120,
    # One wiki page's text. A long report is a few thousand lines and well under 200 000
    # characters; the request body limit of Django (2.5 MB) would allow ten times that.
    "WIKI_MAX_PAGE_CHARS": 200_000,
    "WIKI_MAX_PAGE_LINES": 5_000,
    # Per group, and per page for the revisions: each is kept for ever (the history is what a
    # teacher reads when grading), so the counts bound what a group can store.
    "WIKI_MAX_PAGES": 100,
    "WIKI_MAX_REVISIONS": 500,
    "WIKI_MAX_IMAGES": 100,
    # The line by line diff (difflib.SequenceMatcher) takes time of the order of the product
    # of the line counts it compares, and worse with many repeated lines: 500 x 500 repeated
    # lines take 1.4 s, 2 000 x 2 000 over 10 s. It compares only what lies between the common
    # first and last lines, and only when that product is within the budget (316 x 316 lines,
    # under a second in the worst case measured) and each side within the line bound.
    "WIKI_DIFF_MAX_LINES": 5_000,
    "WIKI_DIFF_MAX_COMPARISONS": 100_000,
}


def limit(name: str) -> int:
    return getattr(settings, name, DEFAULTS[name])

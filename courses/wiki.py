"""The group wiki: Markdown rendered then sanitized, revisions, diffs, images, the checklist."""

import difflib
import re
import secrets
import unicodedata

import markdown
import nh3
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from courses.limits import limit
from courses.models import StudentGroup, WikiImage, WikiPage, WikiRevision
from courses.services import Refused

MAX_IMAGE_BYTES = 2 * 1024 * 1024
RESERVED_SLUGS = {"new"}
TAGS = {
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote", "pre", "code",
    "em", "strong", "del", "ul", "ol", "li", "dl", "dt", "dd", "a", "img", "sup", "sub",
    "table", "thead", "tbody", "tr", "th", "td", "div", "span",
}  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
    "h1": {"id"}, "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"},
    "code": {"class"},
    "div": {"class"},
}  # fmt: skip
URL_SCHEMES = {"http", "https", "mailto"}


# --- rendering


def render(text, page):
    """Markdown to HTML that can carry no script, event handler or javascript: link.

    Images may come only from the page's own uploads (links elsewhere may point anywhere
    http(s), mailto or relative). An image's address must be exactly one of theirs: a prefix
    test would let `images/../../` (or `%2e%2e/`, or a backslash, which browsers read as a
    slash) lead the reader's browser to any other address of the site."""
    html = markdown.markdown(text, extensions=["tables", "fenced_code", "sane_lists", "toc"])
    image_src = re.compile(re.escape(page.images_url()) + r"[0-9]+/") if page.pk else None

    def keep(element, attribute, value):
        if (
            element == "img"
            and attribute == "src"
            and (image_src is None or not image_src.fullmatch(value))
        ):
            return None
        if element in ("code", "div") and attribute == "class":
            return " ".join(c for c in value.split() if re.fullmatch(r"language-[\w-]+|toc", c))
        return value

    clean = nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=keep,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return mark_safe(clean)  # noqa: S308  (sanitized by nh3 just above)


# --- headings and the checklist


def _fold(text):
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def headings(text):
    """The Markdown headings of a text (ATX '# ...' and setext underlines), outside code."""
    found, fenced, previous = [], False, ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            fenced = not fenced
            previous = ""
            continue
        if fenced:
            continue
        match = re.match(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            found.append(match.group(1))
        elif previous and re.fullmatch(r"=+|-+", stripped):
            found.append(previous)
        previous = stripped
    return found


def checklist(group, assignment):
    """[(rubric item, covered, heading that covers it)] for the items that need a section."""
    texts = [
        revision.text for page in group.wiki_pages.all() if (revision := page.current()) is not None
    ]
    all_headings = [h for text in texts for h in headings(text)]
    rows = []
    for item in assignment.rubric_items.all():
        keywords = [_fold(word) for word in item.keywords]
        if not keywords:
            continue
        match = next((h for h in all_headings if any(word in _fold(h) for word in keywords)), None)
        rows.append((item, match is not None, match))
    return rows


# --- pages and revisions


def frozen_for(group):
    if group.wiki_frozen():
        raise Refused(
            _("The deadline has passed: the wiki is frozen. Ask the teacher to reopen it.")
        )


def check_text(text):
    """Refuse a page text longer than the limits (courses/limits.py)."""
    chars, max_chars = len(text), limit("WIKI_MAX_PAGE_CHARS")
    if chars > max_chars:
        raise Refused(
            _(
                "The text is too long: %(count)s characters, and a page holds at most %(max)s. "
                "Split it into several pages."
            )
            % {"count": chars, "max": max_chars}
        )
    # Counted as the diff counts them (str.splitlines knows more line breaks than \n).
    lines, max_lines = len(text.splitlines()), limit("WIKI_MAX_PAGE_LINES")
    if lines > max_lines:
        raise Refused(
            _(
                "The text has too many lines: %(count)s, and a page holds at most %(max)s. "
                "Split it into several pages."
            )
            % {"count": lines, "max": max_lines}
        )


def _check_new_revision(page):
    most = limit("WIKI_MAX_REVISIONS")
    if page.pk and page.revisions.count() >= most:
        raise Refused(
            ngettext(
                "This page already has %(max)s saved revision, the most a page may have: "
                "go on in a new page.",
                "This page already has %(max)s saved revisions, the most a page may have: "
                "go on in a new page.",
                most,
            )
            % {"max": most}
        )


def _lock(group):
    """Lock the group's row: two saves at once cannot both take the last place of a limit."""
    StudentGroup.objects.select_for_update().filter(pk=group.pk).first()


def save_page(group, author, title, text, page=None, slug="", summary=""):
    """Save a new revision (creating the page when needed); refused after the deadline, and
    beyond the limits of text, pages and revisions."""
    frozen_for(group)
    title = title.strip()
    if not title:
        raise Refused(_("Give the page a title."))
    check_text(text)
    with transaction.atomic():
        _lock(group)
        if page is None:
            slug = slugify(slug or title)[:100]
            if not slug or slug in RESERVED_SLUGS:
                raise Refused(_("Choose another address for the page."))
            if group.wiki_pages.filter(slug=slug).exists():
                raise Refused(_("The wiki already has a page at %(slug)s.") % {"slug": slug})
            most = limit("WIKI_MAX_PAGES")
            if group.wiki_pages.count() >= most:
                raise Refused(
                    ngettext(
                        "The wiki already has %(max)s page, the most a group's wiki may have: "
                        "add to the page it has.",
                        "The wiki already has %(max)s pages, the most a group's wiki may have: "
                        "add to the pages it has.",
                        most,
                    )
                    % {"max": most}
                )
            page = WikiPage.objects.create(group=group, slug=slug, title=title)
        elif page.title != title:
            page.title = title
            page.save(update_fields=["title"])
        current = page.current()
        if current is None or current.text != text:
            _check_new_revision(page)
            WikiRevision.objects.create(page=page, text=text, author=author, summary=summary)
    return page


def restore(page, revision, author):
    frozen_for(page.group)
    check_text(revision.text)
    summary = _("Restored the revision of %(when)s.") % {
        "when": revision.created_at.strftime("%Y-%m-%d %H:%M")
    }
    with transaction.atomic():
        _lock(page.group)
        _check_new_revision(page)
        return WikiRevision.objects.create(
            page=page, text=revision.text, author=author, summary=summary
        )


def diff_rows(old, new):
    """(kind, old line number, old text, new line number, new text) rows, escaped by the
    template; kind is equal, delete, insert or replace. None when the revisions are too large
    to compare line by line (courses/limits.py gives the measured reason and the bounds)."""
    a, b = old.splitlines(), new.splitlines()
    if max(len(a), len(b)) > limit("WIKI_DIFF_MAX_LINES"):
        return None
    # Only what lies between the common first and last lines is compared: an edit of a long
    # page compares the few lines around it.
    shorter = min(len(a), len(b))
    head = 0
    while head < shorter and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < shorter - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    middle_a, middle_b = a[head : len(a) - tail], b[head : len(b) - tail]
    if len(middle_a) * len(middle_b) > limit("WIKI_DIFF_MAX_COMPARISONS"):
        return None
    opcodes = [("equal", 0, head, 0, head)] if head else []
    if middle_a or middle_b:
        matcher = difflib.SequenceMatcher(a=middle_a, b=middle_b, autojunk=False)
        opcodes += [
            (tag, i1 + head, i2 + head, j1 + head, j2 + head)
            for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        ]
    if tail:
        opcodes.append(("equal", len(a) - tail, len(a), len(b) - tail, len(b)))
    rows = []
    for tag, i1, i2, j1, j2 in opcodes:
        left, right = a[i1:i2], b[j1:j2]
        for k in range(max(len(left), len(right))):
            rows.append(
                (
                    tag,
                    i1 + k + 1 if k < len(left) else "",
                    left[k] if k < len(left) else "",
                    j1 + k + 1 if k < len(right) else "",
                    right[k] if k < len(right) else "",
                )
            )
    return rows


# --- images

SIGNATURES = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
]


def sniff(head):
    """The image type by its first bytes; None when it is none of PNG, JPEG, GIF, WebP."""
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _check_image_count(group):
    most = limit("WIKI_MAX_IMAGES")
    if WikiImage.objects.filter(page__group=group).count() >= most:
        raise Refused(
            ngettext(
                "The wiki already has %(max)s image, the most a group's wiki may have.",
                "The wiki already has %(max)s images, the most a group's wiki may have.",
                most,
            )
            % {"max": most}
        )


def upload_image(page, upload, user):
    frozen_for(page.group)
    _check_image_count(page.group)
    if upload.size > MAX_IMAGE_BYTES:
        raise Refused(
            _("The image is too large (%(size)s KiB); the limit is 2 MiB.")
            % {"size": upload.size // 1024}
        )
    data = upload.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise Refused(_("The image is too large; the limit is 2 MiB."))
    content_type = sniff(data[:16])
    if content_type is None:
        raise Refused(_("Only PNG, JPEG, GIF and WebP images can be uploaded."))
    name = (upload.name or "image").rsplit("/", 1)[-1][:200]
    image = WikiImage(
        page=page,
        name=name,
        content_type=content_type,
        size=len(data),
        token=secrets.token_hex(16),
        uploaded_by=user,
    )
    with transaction.atomic():
        _lock(page.group)
        _check_image_count(page.group)
        image.file.save(name, ContentFile(data), save=False)
        image.save()
    return image

"""The group wiki: Markdown rendered then sanitized, revisions, diffs, images, the checklist."""

import difflib
import re
import secrets
import unicodedata

import markdown
import nh3
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _

from courses.models import WikiImage, WikiPage, WikiRevision
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
    http(s), mailto or relative)."""
    html = markdown.markdown(text, extensions=["tables", "fenced_code", "sane_lists", "toc"])
    image_prefix = page.images_url() if page.pk else None

    def keep(element, attribute, value):
        if element == "img" and attribute == "src":
            path = value.split("?", 1)[0]
            if image_prefix is None or not path.startswith(image_prefix):
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


def save_page(group, author, title, text, page=None, slug="", summary=""):
    """Save a new revision (creating the page when needed); refused after the deadline."""
    frozen_for(group)
    title = title.strip()
    if not title:
        raise Refused(_("Give the page a title."))
    with transaction.atomic():
        if page is None:
            slug = slugify(slug or title)[:100]
            if not slug or slug in RESERVED_SLUGS:
                raise Refused(_("Choose another address for the page."))
            if group.wiki_pages.filter(slug=slug).exists():
                raise Refused(_("The wiki already has a page at %(slug)s.") % {"slug": slug})
            page = WikiPage.objects.create(group=group, slug=slug, title=title)
        elif page.title != title:
            page.title = title
            page.save(update_fields=["title"])
        current = page.current()
        if current is None or current.text != text:
            WikiRevision.objects.create(page=page, text=text, author=author, summary=summary)
    return page


def restore(page, revision, author):
    frozen_for(page.group)
    summary = _("Restored the revision of %(when)s.") % {
        "when": revision.created_at.strftime("%Y-%m-%d %H:%M")
    }
    return WikiRevision.objects.create(
        page=page, text=revision.text, author=author, summary=summary
    )


def diff_rows(old, new):
    """(kind, old line number, old text, new line number, new text) rows, escaped by the
    template; kind is equal, delete, insert or replace."""
    a, b = old.splitlines(), new.splitlines()
    rows = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
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


def unified_diff(old, new, old_label, new_label):
    lines = difflib.unified_diff(
        old.splitlines(), new.splitlines(), old_label, new_label, lineterm=""
    )
    return escape("\n".join(lines))


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


def upload_image(page, upload, user):
    frozen_for(page.group)
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
    image.file.save(name, ContentFile(data), save=False)
    image.save()
    return image

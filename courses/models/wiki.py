"""The group wiki: pages, their revisions (never changed, only added) and uploaded images."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class WikiPage(models.Model):
    group = models.ForeignKey(
        "courses.StudentGroup", on_delete=models.CASCADE, related_name="wiki_pages"
    )
    slug = models.SlugField(_("address"), max_length=100)
    title = models.CharField(_("title"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["group", "title"]
        verbose_name = _("wiki page")
        verbose_name_plural = _("wiki pages")
        constraints = [
            models.UniqueConstraint(fields=["group", "slug"], name="wiki_page_slug_unique_in_group")
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("courses:wiki_page", args=[self.group.course.slug, self.group.pk, self.slug])

    def images_url(self):
        return reverse(
            "courses:wiki_images", args=[self.group.course.slug, self.group.pk, self.slug]
        )

    def current(self):
        return self.revisions.order_by("-created_at", "-pk").first()


class WikiRevision(models.Model):
    page = models.ForeignKey(WikiPage, on_delete=models.CASCADE, related_name="revisions")
    text = models.TextField(_("text"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("saved at"), auto_now_add=True)
    summary = models.CharField(_("summary"), max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("wiki revision")
        verbose_name_plural = _("wiki revisions")

    def __str__(self):
        return f"{self.page} @ {self.created_at:%Y-%m-%d %H:%M}"


def image_path(image, filename):
    # The name on disk is ours, never the uploader's.
    return f"courses/wiki/{image.page.group_id}/{image.page_id}/{image.token}{image.extension}"


class WikiImage(models.Model):
    page = models.ForeignKey(WikiPage, on_delete=models.CASCADE, related_name="images")
    file = models.FileField(upload_to=image_path, max_length=300)
    name = models.CharField(_("name"), max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    token = models.CharField(max_length=32, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    EXTENSIONS = {
        "image/png": ".png",
        "image/jpeg": ".jpg",
        "image/gif": ".gif",
        "image/webp": ".webp",
    }

    class Meta:
        ordering = ["page", "uploaded_at"]
        verbose_name = _("wiki image")
        verbose_name_plural = _("wiki images")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        group = self.page.group
        return reverse(
            "courses:wiki_image", args=[group.course.slug, group.pk, self.page.slug, self.pk]
        )

    @property
    def extension(self):
        return self.EXTENSIONS.get(self.content_type, "")

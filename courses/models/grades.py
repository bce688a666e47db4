from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Grade(models.Model):
    """One cell of the grading sheet: a group's points and comment on one rubric item."""

    group = models.ForeignKey(
        "courses.StudentGroup", on_delete=models.CASCADE, related_name="grades"
    )
    item = models.ForeignKey("courses.RubricItem", on_delete=models.CASCADE, related_name="grades")
    points = models.DecimalField(_("points"), max_digits=6, decimal_places=2, null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    # Who was in the group when the cell was graded (set when its points or comment change):
    # the export credits them, whoever is in the group now.
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="+",
        blank=True,
        verbose_name=_("members credited"),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["group", "item"]
        verbose_name = _("grade")
        verbose_name_plural = _("grades")
        constraints = [
            models.UniqueConstraint(fields=["group", "item"], name="one_grade_per_group_and_item")
        ]

    def __str__(self):
        return f"{self.group} / {self.item}: {self.points}"

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = _("Courses")

    def ready(self):
        # Declares this app's kinds of job to the runner (jobs/registry.py).
        from courses import jobs  # noqa: F401

from django.contrib import admin

from courses import services
from courses.models import (
    Assignment,
    CheckResult,
    CheckRun,
    Course,
    Grade,
    GroupMembership,
    RubricItem,
    StudentGroup,
    WikiImage,
    WikiPage,
    WikiRevision,
)


class RubricItemInline(admin.TabularInline):
    model = RubricItem
    extra = 0


class MembershipInline(admin.TabularInline):
    model = GroupMembership
    extra = 0
    fields = ["student", "course"]
    raw_id_fields = ["student"]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "created_at"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["teachers", "students"]
    search_fields = ["title", "slug"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # New or removed teachers see, or no longer see, the groups' clusters.
        services.sync_course_access(form.instance)


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["title", "course", "deadline", "published_wikis", "grades_released"]
    list_filter = ["course"]
    inlines = [RubricItemInline]


@admin.register(StudentGroup)
class StudentGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "course", "invitation_code", "reopened", "cluster"]
    list_filter = ["course"]
    inlines = [MembershipInline]


class CheckResultInline(admin.TabularInline):
    model = CheckResult
    extra = 0
    readonly_fields = ["name", "passed", "message", "params", "checked_at"]


@admin.register(CheckRun)
class CheckRunAdmin(admin.ModelAdmin):
    list_display = ["group", "status", "created_at", "finished_at", "requested_by"]
    list_filter = ["status"]
    inlines = [CheckResultInline]


class WikiRevisionInline(admin.TabularInline):
    model = WikiRevision
    extra = 0
    readonly_fields = ["author", "created_at", "summary"]
    fields = ["author", "created_at", "summary"]


@admin.register(WikiPage)
class WikiPageAdmin(admin.ModelAdmin):
    list_display = ["title", "group", "slug"]
    inlines = [WikiRevisionInline]


admin.site.register(WikiImage)
admin.site.register(Grade)

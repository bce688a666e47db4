from django.urls import path

from courses.views import courses, groups, wiki

app_name = "courses"
GROUP = "<slug:slug>/groups/<int:pk>/"
PAGE = GROUP + "wiki/<slug:page>/"
urlpatterns = [
    path("", courses.course_list, name="list"),
    path("new/", courses.course_create, name="create"),
    path("<slug:slug>/", courses.course_detail, name="detail"),
    path("<slug:slug>/edit/", courses.course_edit, name="edit"),
    path("<slug:slug>/students/", courses.course_students, name="students"),
    path("<slug:slug>/assignments/new/", courses.assignment_create, name="assignment_create"),
    path("<slug:slug>/assignments/<int:pk>/", courses.assignment_detail, name="assignment"),
    path("<slug:slug>/assignments/<int:pk>/edit/", courses.assignment_edit, name="assignment_edit"),
    path(
        "<slug:slug>/assignments/<int:pk>/flags/", courses.assignment_flags, name="assignment_flags"
    ),
    path("<slug:slug>/assignments/<int:pk>/grades/", courses.grading_sheet, name="grades"),
    path("<slug:slug>/assignments/<int:pk>/grades.csv", courses.grades_csv, name="grades_csv"),
    path(
        "<slug:slug>/assignments/<int:pk>/grades/<int:group>/",
        courses.grading_group,
        name="grade_group",
    ),
    path("<slug:slug>/groups/new/", groups.group_create, name="group_create"),
    path("<slug:slug>/groups/join/", groups.group_join, name="group_join"),
    path(GROUP, groups.group_detail, name="group"),
    path(GROUP + "leave/", groups.group_leave, name="group_leave"),
    path(GROUP + "members/", groups.group_members, name="group_members"),
    path(GROUP + "reopen/", groups.group_reopen, name="group_reopen"),
    path(GROUP + "cluster/", groups.group_cluster, name="group_cluster"),
    path(GROUP + "cluster/trust/", groups.group_trust, name="group_trust"),
    path(GROUP + "checks/", groups.checks_run, name="checks_run"),
    path(GROUP + "checks/<int:run>/", groups.check_run, name="check_run"),
    path(GROUP + "wiki/", wiki.wiki_index, name="wiki"),
    path(GROUP + "wiki/new/", wiki.wiki_create, name="wiki_create"),
    path(PAGE, wiki.wiki_page, name="wiki_page"),
    path(PAGE + "edit/", wiki.wiki_edit, name="wiki_edit"),
    path(PAGE + "history/", wiki.wiki_history, name="wiki_history"),
    path(PAGE + "diff/", wiki.wiki_diff, name="wiki_diff"),
    path(PAGE + "revisions/<int:revision>/", wiki.wiki_revision, name="wiki_revision"),
    path(PAGE + "revisions/<int:revision>/restore/", wiki.wiki_restore, name="wiki_restore"),
    path(PAGE + "images/", wiki.wiki_images, name="wiki_images"),
    path(PAGE + "images/<int:image>/", wiki.wiki_image, name="wiki_image"),
]

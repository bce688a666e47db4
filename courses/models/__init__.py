"""The coursework models: courses and groups, wikis, deployment evidence, grades."""

from courses.models.course import (
    Assignment,
    Course,
    GroupMembership,
    MembershipChange,
    RubricItem,
    StudentGroup,
)
from courses.models.evidence import CheckResult, CheckRun
from courses.models.grades import Grade
from courses.models.wiki import WikiImage, WikiPage, WikiRevision

__all__ = [
    "Assignment",
    "CheckResult",
    "CheckRun",
    "Course",
    "Grade",
    "GroupMembership",
    "MembershipChange",
    "RubricItem",
    "StudentGroup",
    "WikiImage",
    "WikiPage",
    "WikiRevision",
]

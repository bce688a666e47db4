"""Each user's language, remembered so that what is written for them later speaks it.

Pages follow the browser (LocaleMiddleware), but a notification is written while another
person acts: it is rendered in the recipient's language, the one they logged in with or last
chose in the language menu.
"""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import translation
from django.views.i18n import set_language as django_set_language

from notifications.models import LanguagePreference


def supported(code: str | None) -> str | None:
    """The site's own code for `code` ('pt-BR' -> 'pt-br'), or None if the site lacks it."""
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def remember(user, code: str | None) -> None:
    code = supported(code)
    if code and user.is_authenticated:
        LanguagePreference.objects.update_or_create(user=user, defaults={"language": code})


def languages_of(users) -> dict[int, str]:
    """{user id: language} for these users, the site's default where none is known."""
    ids = [user.pk for user in users]
    known = dict(
        LanguagePreference.objects.filter(user_id__in=ids).values_list("user_id", "language")
    )
    return {pk: known.get(pk, settings.LANGUAGE_CODE) for pk in ids}


@receiver(user_logged_in)
def _remember_on_login(sender, request, user, **kwargs):
    remember(user, getattr(request, "LANGUAGE_CODE", None))


def set_language(request):
    """Django's language switch, which also remembers the choice of a logged-in user."""
    response = django_set_language(request)
    if request.method == "POST":
        remember(request.user, request.POST.get("language"))
    return response

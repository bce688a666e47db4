from django import forms
from django.utils.translation import gettext_lazy as _

from clusters.forms import normalize_fingerprint
from courses import services, wiki
from courses.models import Assignment, Course, RubricItem


class CourseForm(forms.ModelForm):
    class Meta:
        model = Course
        fields = ["title", "slug", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"slug": _("Used in addresses: letters, digits and hyphens.")}


class StudentImportForm(forms.Form):
    names = forms.CharField(
        label=_("User names or e-mails"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line."),
    )
    file = forms.FileField(
        label=_("CSV file"),
        required=False,
        help_text=_("User names or e-mails in the first column; a header row is allowed."),
    )

    def clean(self):
        data = super().clean()
        parts = [data.get("names") or ""]
        upload = data.get("file")
        if upload is not None:
            try:
                parts.append(upload.read(1024 * 1024).decode("utf-8-sig"))
            except UnicodeDecodeError:
                raise forms.ValidationError(_("The CSV file must be UTF-8 text.")) from None
        # Line numbers in the report count from the first line given.
        text = "\n".join(part for part in parts if part.strip())
        if not text.strip():
            raise forms.ValidationError(_("Type some user names or choose a CSV file."))
        data["text"] = text
        return data


class AssignmentForm(forms.ModelForm):
    ganeti_rubric = forms.BooleanField(
        label=_("Start from the ready-made rubric of the Ganeti deployment project"),
        required=False,
        initial=True,
    )

    class Meta:
        model = Assignment
        fields = ["title", "description", "deadline", "published_wikis", "grades_released"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 5}),
            "deadline": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["ganeti_rubric"]


RubricFormSet = forms.inlineformset_factory(
    Assignment,
    RubricItem,
    fields=["title", "description", "max_points", "required_heading", "order"],
    widgets={"description": forms.Textarea(attrs={"rows": 2})},
    extra=1,
    can_delete=True,
)


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Group name"), max_length=100)


class JoinForm(forms.Form):
    code = forms.CharField(label=_("Invitation code"), max_length=16)


class ClusterRegistrationForm(forms.Form):
    rapi_host = forms.CharField(
        label=_("RAPI address"),
        max_length=253,
        help_text=_("The name or IP address of your cluster's master."),
    )
    rapi_port = forms.IntegerField(label=_("RAPI port"), initial=5080, min_value=1, max_value=65535)
    rapi_user = forms.CharField(
        label=_("RAPI user"),
        max_length=100,
        help_text=_("A read-only user of /var/lib/ganeti/rapi/users is enough."),
    )
    rapi_password = forms.CharField(
        label=_("RAPI password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted. Leave empty to keep the current password."),
    )
    fingerprint = forms.CharField(
        label=_("Certificate fingerprint (SHA-256)"),
        required=False,
        help_text=_(
            "Optional: openssl x509 -noout -fingerprint -sha256 -in /var/lib/ganeti/rapi.pem. "
            "Left empty, the first check shows the fingerprint for you to confirm."
        ),
    )

    def __init__(self, *args, has_password=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_password = has_password

    def clean_rapi_host(self):
        try:
            return services.clean_rapi_host(self.cleaned_data["rapi_host"])
        except services.Refused as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_rapi_port(self):
        try:
            return services.clean_rapi_port(self.cleaned_data["rapi_port"])
        except services.Refused as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_fingerprint(self):
        value = self.cleaned_data["fingerprint"].strip()
        return normalize_fingerprint(value) if value else ""

    def clean(self):
        data = super().clean()
        if not self.has_password and not data.get("rapi_password"):
            self.add_error("rapi_password", _("Give the RAPI user's password."))
        return data


class WikiPageForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    slug = forms.SlugField(
        label=_("Address"),
        max_length=100,
        required=False,
        help_text=_("Letters, digits and hyphens; made from the title when left empty."),
    )
    text = forms.CharField(
        label=_("Text (Markdown)"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 20, "class": "font-monospace"}),
    )
    summary = forms.CharField(label=_("What changed"), max_length=200, required=False)

    def __init__(self, *args, new=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not new:
            del self.fields["slug"]

    def clean_text(self):
        text = self.cleaned_data["text"]
        try:
            wiki.check_text(text)
        except services.Refused as exc:
            raise forms.ValidationError(str(exc)) from None
        return text


class ImageForm(forms.Form):
    image = forms.FileField(label=_("Image"), help_text=_("PNG, JPEG, GIF or WebP, at most 2 MiB."))

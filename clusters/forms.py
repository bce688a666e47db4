import re
from urllib.parse import urlsplit

from cryptography import x509
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from clusters.choices import CertificateTrust, ClusterKind
from clusters.models import Cluster

LIBVIRT_SCHEMES = {"qemu", "qemu+ssh", "qemu+tcp", "qemu+tls", "qemu+unix", "test", "test+unix"}
# Path words that cluster pages share with their short names (e.g. /clusters/new/).
RESERVED_SLUGS = {"new"}
FINGERPRINT = re.compile(r"^[0-9A-F]{64}$")


def normalize_fingerprint(value: str) -> str:
    """Accept SHA-256 fingerprints with or without colons, any case; store AA:BB:... form."""
    digits = re.sub(r"[\s:]", "", value).upper()
    if not FINGERPRINT.match(digits):
        raise forms.ValidationError(
            _("A SHA-256 fingerprint has 64 hexadecimal digits (colons are optional).")
        )
    return ":".join(digits[i : i + 2] for i in range(0, 64, 2))


class ClusterForm(forms.ModelForm):
    rapi_password = forms.CharField(
        label=_("RAPI password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted. Leave empty to keep the current password."),
    )

    vnc_password = forms.CharField(
        label=_("VNC password"),
        required=False,
        strip=True,  # Ganeti reads the file's first line, without its line end
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Only if the cluster's KVM hypervisor has a vnc_password_file: its content (VNC "
            "uses the first 8 characters). The console logs in with it, so users never see it. "
            "Stored encrypted; leave empty to keep the current one."
        ),
    )
    forget_vnc_password = forms.BooleanField(
        label=_("Forget the stored VNC password"), required=False
    )

    class Meta:
        model = Cluster
        fields = [
            "name",
            "slug",
            "kind",
            "description",
            "rapi_host",
            "rapi_port",
            "rapi_user",
            "rapi_password",
            "certificate_trust",
            "pinned_fingerprint",
            "ca_bundle",
            "vnc_password",
            "forget_vnc_password",
            "libvirt_uris",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "ca_bundle": forms.Textarea(attrs={"rows": 4, "class": "font-monospace"}),
            "libvirt_uris": forms.Textarea(attrs={"rows": 3, "class": "font-monospace"}),
        }
        help_texts = {
            "slug": _("Used in addresses: letters, digits and hyphens."),
            "rapi_host": _("The Ganeti master's name or address; RAPI listens on port 5080."),
            "pinned_fingerprint": _(
                "Leave empty to pin the certificate the cluster presents on first contact, "
                "after you confirm it on the cluster's page."
            ),
            "libvirt_uris": _("One per host, e.g. qemu:///system or qemu+ssh://root@host/system."),
        }

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        if slug in RESERVED_SLUGS:
            raise forms.ValidationError(_("This short name is used by the site; choose another."))
        return slug

    def clean_pinned_fingerprint(self):
        value = self.cleaned_data["pinned_fingerprint"].strip()
        return normalize_fingerprint(value) if value else ""

    def clean_libvirt_uris(self):
        lines = [line.strip() for line in self.cleaned_data["libvirt_uris"].splitlines()]
        uris = [line for line in lines if line]
        for uri in uris:
            if urlsplit(uri).scheme not in LIBVIRT_SCHEMES:
                raise forms.ValidationError(
                    _("%(uri)s is not a libvirt URI; use for example qemu:///system."),
                    params={"uri": uri},
                )
        if len(set(uris)) != len(uris):
            raise forms.ValidationError(_("Each host may be listed only once."))
        return "\n".join(uris)

    def clean_ca_bundle(self):
        pem = self.cleaned_data["ca_bundle"].strip()
        if pem:
            try:
                x509.load_pem_x509_certificates(pem.encode())
            except ValueError:
                raise forms.ValidationError(
                    _("This is not a PEM certificate bundle (-----BEGIN CERTIFICATE-----).")
                ) from None
        return pem

    def clean(self):
        data = super().clean()
        if data.get("kind") == ClusterKind.GANETI:
            self._require(["rapi_host", "rapi_user"], _("A Ganeti cluster needs this."))
            if not self.instance.pk and not data.get("rapi_password"):
                self.add_error("rapi_password", _("A Ganeti cluster needs this."))
            trust_ca = data.get("certificate_trust") == CertificateTrust.CA
            if trust_ca and not data.get("ca_bundle"):
                self.add_error("ca_bundle", _("Paste the CA certificate that signed RAPI's."))
        elif data.get("kind") == ClusterKind.LIBVIRT:
            self._require(["libvirt_uris"], _("Give at least one host URI."))
        return data

    def _secret(self, name, stored, forget=False):
        """A new value replaces the stored one; empty keeps it (the form never shows it back),
        unless the admin asked to forget it."""
        if value := self.cleaned_data.get(name):
            return value
        return "" if forget or stored is None else getattr(stored, name)

    def _require(self, names, message):
        for name in names:
            if not self.cleaned_data.get(name) and name not in self.errors:
                self.add_error(name, message)

    def save(self, commit=True):
        stored = Cluster.objects.get(pk=self.instance.pk) if self.instance.pk else None
        cluster = super().save(commit=False)
        cluster.rapi_password = self._secret("rapi_password", stored)
        forget = self.cleaned_data.get("forget_vnc_password")
        cluster.vnc_password = self._secret("vnc_password", stored, forget)
        if "pinned_fingerprint" in self.changed_data or "rapi_host" in self.changed_data:
            cluster.seen_fingerprint = ""
        if commit:
            cluster.save()
        return cluster


def owner_choices():
    """Users and groups, as 'user:ID' or 'group:ID' grouped under headings."""
    users = get_user_model().objects.order_by("username").values_list("pk", "username")
    groups = Group.objects.order_by("name").values_list("pk", "name")
    return [
        ("", _("(no owner)")),
        (_("Users"), [(f"user:{pk}", name) for pk, name in users]),
        (_("Groups"), [(f"group:{pk}", name) for pk, name in groups]),
    ]


class OwnerChoiceField(forms.ChoiceField):
    """One choice among users and groups; cleans to the User or Group itself."""

    def clean(self, value):
        value = super().clean(value)  # checks the string against the choices
        if not value:
            return None
        kind, _sep, pk = value.partition(":")
        model = get_user_model() if kind == "user" else Group
        return model.objects.get(pk=int(pk))


class ImportForm(forms.Form):
    """Assign owners to VMs found on the cluster, or forget VMs gone from it."""

    action = forms.ChoiceField(choices=[("assign", "assign"), ("forget", "forget")])
    vms = forms.TypedMultipleChoiceField(coerce=int, choices=[])
    owner = OwnerChoiceField(label=_("Owner"), required=False)

    def __init__(self, *args, unowned=(), missing=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vms"].choices = [(vm.pk, vm.name) for vm in [*unowned, *missing]]
        self.fields["owner"].choices = owner_choices()
        self.unowned_ids = {vm.pk for vm in unowned}
        self.missing_ids = {vm.pk for vm in missing}

    def clean(self):
        data = super().clean()
        chosen = set(data.get("vms", []))
        if data.get("action") == "assign":
            if not data.get("owner"):
                self.add_error("owner", _("Choose the owner to give these VMs."))
            if chosen - self.unowned_ids:
                self.add_error("vms", _("Only VMs without an owner can be assigned here."))
        elif data.get("action") == "forget" and chosen - self.missing_ids:
            self.add_error("vms", _("Only VMs missing from the cluster can be forgotten."))
        return data

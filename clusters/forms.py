import re

from cryptography import x509
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from access.forms import OwnerChoiceField, owner_choices
from clusters.backends import libvirt_uri
from clusters.backends.libvirt_uri import remote_endpoint, uri_problem
from clusters.choices import CertificateTrust, ClusterKind
from clusters.models import Cluster

URI_PROBLEMS = {
    libvirt_uri.NOT_A_URI: _("it is not a libvirt URI; use for example qemu+ssh://host/system."),
    libvirt_uri.DRIVER: _("only the QEMU driver is supported (qemu:// or qemu+ssh://)."),
    libvirt_uri.TRANSPORT: _("use one of the transports ssh, libssh, libssh2, tcp, tls or unix."),
    libvirt_uri.PATH: _("the path must be /system or /session."),
    libvirt_uri.QUERY: _("only the options no_tty and sshauth may follow the question mark."),
    libvirt_uri.HOST_NAME: _("give a plain host name or address, a user without a password."),
}
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


# What only superusers change: where the workers connect and what they trust (a cluster
# admin who could change these could point the workers anywhere, or receive the stored
# password in a connection test). Secrets never appear in forms, pages or the audit log.
CONNECTION_FIELDS = [
    "slug",
    "kind",
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
    "nic_links",
    "on_this_machine",
]
SECRET_FIELDS = {"rapi_password", "vnc_password", "forget_vnc_password"}


class AuditedChanges:
    """`changes()`: what a saved form changed, for the audit log. A plain field gives
    [old, new]; a secret gives only "changed" or "forgotten", never a value."""

    def changes(self) -> dict:
        changed: dict = {}
        for name in self.changed_data:
            if name in SECRET_FIELDS:
                continue
            old, new = self.initial.get(name, ""), self.cleaned_data.get(name, "")
            changed[name] = [_plain(old), _plain(new)]
        for name in ("rapi_password", "vnc_password"):
            if self.cleaned_data.get(name):
                changed[name] = "changed"
        if self.cleaned_data.get("forget_vnc_password"):
            changed["vnc_password"] = "forgotten"
        return changed


def _plain(value):
    return value if isinstance(value, bool | int) or value is None else str(value)


class ClusterDetailsForm(AuditedChanges, forms.ModelForm):
    """What a cluster's administrators edit: how the cluster is named and described, and
    when a node's memory or disk use counts as a problem."""

    class Meta:
        model = Cluster
        fields = ["name", "description", "memory_warning_percent", "disk_warning_percent"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class ClusterForm(AuditedChanges, forms.ModelForm):
    """Registering a cluster and its connection settings: superusers only."""

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
        fields = ["name", "description", *CONNECTION_FIELDS]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "ca_bundle": forms.Textarea(attrs={"rows": 4, "class": "font-monospace"}),
            "libvirt_uris": forms.Textarea(attrs={"rows": 3, "class": "font-monospace"}),
            "nic_links": forms.Textarea(attrs={"rows": 3, "class": "font-monospace"}),
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
            problem = uri_problem(uri, settings.LIBVIRT_TEST_DRIVER)
            if problem is not None:
                raise forms.ValidationError(
                    _("%(uri)s cannot be used: %(reason)s"),
                    params={"uri": uri, "reason": URI_PROBLEMS[problem]},
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
            uris = (data.get("libvirt_uris") or "").splitlines()
            local = [uri for uri in uris if remote_endpoint(uri) is None]
            if local and not data.get("on_this_machine"):
                self.add_error(
                    "on_this_machine",
                    _(
                        "%(uri)s reaches this machine's own libvirtd: tick this if that is "
                        "what you mean."
                    )
                    % {"uri": local[0]},
                )
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


class ClusterConnectionForm(ClusterForm):
    """A registered cluster's connection settings: superusers only."""

    class Meta(ClusterForm.Meta):
        fields = CONNECTION_FIELDS


class ImportForm(forms.Form):
    """Assign owners to VMs found on the cluster, or forget VMs gone from it."""

    action = forms.ChoiceField(choices=[("assign", "assign"), ("forget", "forget")])
    vms = forms.TypedMultipleChoiceField(coerce=int, choices=[])
    owner = OwnerChoiceField(label=_("Owner"), required=False)

    def __init__(self, *args, actor, cluster, unowned=(), missing=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vms"].choices = [(vm.pk, vm.name) for vm in [*unowned, *missing]]
        # The cluster's people only: listing every account would tell its admin who exists.
        self.fields["owner"].choices = owner_choices(actor, cluster)
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

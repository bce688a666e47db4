// Show only the fields that belong to the chosen kind of cluster.
(function () {
  const kindFields = {
    ganeti: ["rapi_host", "rapi_port", "rapi_user", "rapi_password", "certificate_trust",
             "pinned_fingerprint", "ca_bundle", "vnc_password", "forget_vnc_password"],
    libvirt: ["libvirt_uris"],
  };
  const kind = document.querySelector("[name=kind]");
  if (!kind) return;
  function update() {
    for (const [name, fields] of Object.entries(kindFields)) {
      for (const field of fields) {
        const box = document.querySelector(`[data-field="${field}"]`);
        if (box) box.hidden = kind.value !== "" && kind.value !== name;
      }
    }
  }
  kind.addEventListener("change", update);
  update();
})();

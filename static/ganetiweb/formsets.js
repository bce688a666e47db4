// Add and remove rows of a Django formset (disks, NICs) and keep TOTAL_FORMS right.
(function () {
  function renumber(prefix) {
    const rows = document.querySelectorAll(`.formset-rows[data-prefix="${prefix}"] .formset-row`);
    rows.forEach((row, index) => {
      row.querySelectorAll("input, select, label").forEach((el) => {
        for (const attr of ["name", "id", "for"]) {
          const value = el.getAttribute(attr);
          if (value) el.setAttribute(attr, value.replace(new RegExp(`${prefix}-(\\d+|__prefix__)-`), `${prefix}-${index}-`));
        }
      });
    });
    document.getElementById(`id_${prefix}-TOTAL_FORMS`).value = rows.length;
  }
  document.addEventListener("click", (event) => {
    const add = event.target.closest(".formset-add");
    if (add) {
      const prefix = add.dataset.prefix;
      const template = document.getElementById(`${prefix}-empty`);
      document.querySelector(`.formset-rows[data-prefix="${prefix}"]`).append(template.content.cloneNode(true));
      renumber(prefix);
    }
    const remove = event.target.closest(".formset-remove");
    if (remove) {
      const container = remove.closest(".formset-rows");
      remove.closest(".formset-row").remove();
      renumber(container.dataset.prefix);
    }
  });
})();

// "Select all on this page" ticks (or unticks) each row's checkbox too, so the selection is
// visible; unticking a row then unticks "select all", so only the ticked rows are sent.
// Without JavaScript the box still works: the server then acts on every id of the page.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || box.type !== "checkbox") return;
  if (box.dataset.selectAll && box.form) {
    for (const row of document.querySelectorAll(`input[name="${box.dataset.selectAll}"][form="${box.form.id}"]`)) {
      row.checked = box.checked;
    }
  } else if (box.form && !box.checked) {
    const all = box.form.querySelector(`input[data-select-all="${box.name}"]`);
    if (all) all.checked = false;
  }
});

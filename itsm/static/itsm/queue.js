// "Select all on this page" ticks (or unticks) each row's checkbox too, so the selection is
// visible. Without JavaScript the box still works: the server then acts on the page's ids.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || !box.dataset.selectAll || !box.form) return;
  for (const row of document.querySelectorAll(`input[name="${box.dataset.selectAll}"][form="${box.form.id}"]`)) {
    row.checked = box.checked;
  }
});

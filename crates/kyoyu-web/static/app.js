// Small progressive enhancement: without JavaScript the "add row" button submits the form and
// the server answers it with one more row; with it, the row is added in place.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("button[data-add-row]").forEach((button) => {
    button.addEventListener("click", (event) => {
      const body = document.getElementById(button.dataset.addRow);
      const last = body && body.lastElementChild;
      if (!last) return;
      event.preventDefault();
      const next = body.children.length;
      const row = last.cloneNode(true);
      row.querySelectorAll("input, textarea").forEach((input) => {
        input.name = input.name.replace(/\.\d+\./, "." + next + ".");
        input.value = "";
      });
      row.querySelectorAll(".field-error").forEach((e) => e.remove());
      body.appendChild(row);
    });
  });
});

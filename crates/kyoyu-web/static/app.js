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

// File uploads: without JavaScript the form posts as it is; with it, the same post goes
// through XMLHttpRequest so the progress bar can show how much has been sent.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-upload]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const bar = form.querySelector("progress");
      const button = form.querySelector("button[type=submit]");
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable && bar) bar.value = Math.round((100 * e.loaded) / e.total);
      });
      xhr.addEventListener("load", () => {
        if (xhr.status < 400) {
          window.location.assign(xhr.responseURL);
        } else {
          document.open();
          document.write(xhr.responseText);
          document.close();
        }
      });
      xhr.addEventListener("error", () => {
        if (button) button.disabled = false;
        if (bar) bar.hidden = true;
      });
      if (bar) bar.hidden = false;
      if (button) button.disabled = true;
      xhr.send(new FormData(form));
    });
  });
});

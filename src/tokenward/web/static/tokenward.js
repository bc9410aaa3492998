// Small enhancements for Tokenward's pages. Every form also works without this script.
"use strict";

(function () {
  // Forms marked data-confirm ask in the shared <dialog> before they are sent.
  function setUpConfirmations() {
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") return;
    var message = document.getElementById("confirm-dialog-message");
    var title = document.getElementById("confirm-dialog-title");
    var accept = document.getElementById("confirm-dialog-accept");
    var pending = null;

    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.dataset.confirmed === "yes") return;
        event.preventDefault();
        pending = form;
        message.textContent = form.dataset.confirm;
        // A real title: the form's own, else its confirm button's words as a question.
        title.textContent = form.dataset.confirmTitle || (form.dataset.confirmLabel || "Confirm") + "?";
        accept.textContent = form.dataset.confirmLabel || "Confirm";
        dialog.returnValue = "";
        dialog.showModal();
      });
    });

    dialog.addEventListener("close", function () {
      var form = pending;
      pending = null;
      if (form && dialog.returnValue === "confirm") {
        form.dataset.confirmed = "yes";
        form.requestSubmit();
      }
    });
  }

  // Controls whose value differs from the one the page was drawn with.
  function changedControls(form) {
    return Array.prototype.filter.call(form.elements, function (control) {
      if (control.type === "checkbox" || control.type === "radio") {
        return control.checked !== control.defaultChecked;
      }
      if (control.tagName === "INPUT" && control.type !== "hidden") {
        return control.value !== control.defaultValue;
      }
      return false;
    });
  }

  // Tightening the personal token rules asks first, in a dialog that says what will break and
  // how many people will be emailed. The dialog describes one proposal: choosing "Denied" and
  // changing nothing else (data-describes), or, when the server drew the page to confirm a
  // change, the form exactly as drawn. Any other change goes to the server, which asks in turn.
  function setUpSecurityForm() {
    var form = document.getElementById("security-form");
    var dialog = document.getElementById("rules-dialog");
    if (!form || !dialog || typeof dialog.showModal !== "function") return;
    var confirming = form.dataset.confirming === "true";
    var describes = form.dataset.describes;
    if (dialog.open) {
      // Drawn open so it works without this script; make it modal.
      dialog.close();
      dialog.showModal();
    }
    form.addEventListener("submit", function (event) {
      if (event.submitter && event.submitter.name === "confirmed") return;
      var changed = changedControls(form);
      var chosen = form.querySelector("input[name=personal_tokens]:checked");
      var described = confirming
        ? changed.length === 0
        : Boolean(describes) &&
          changed.length > 0 &&
          changed.every(function (control) { return control.name === "personal_tokens"; }) &&
          chosen !== null && chosen.value === describes;
      if (described) {
        event.preventDefault();
        if (!dialog.open) dialog.showModal();
      }
    });
  }

  // Copy buttons copy the value of the input they name, and say whether it worked.
  function setUpCopyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var input = document.getElementById(button.dataset.copy);
        var status = document.getElementById("copy-status");
        if (!input) return;
        function say(text) {
          if (status) status.textContent = text;
        }
        function fallback() {
          input.focus();
          input.select();
          say("Press Ctrl+C (or ⌘C) to copy the selected token.");
        }
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(input.value).then(function () {
            button.textContent = "Copied";
            say("Token copied to the clipboard.");
          }, fallback);
        } else {
          fallback();
        }
      });
    });
  }

  // The expiry choice says the last day the token works, as the server would.
  function setUpExpiryPreview() {
    var fieldset = document.getElementById("expiry");
    var preview = document.getElementById("expiry-preview");
    if (!fieldset || !preview) return;
    var date = fieldset.querySelector("input[type=date]");
    function day(offset, from) {
      var value = new Date(from.getTime() + offset * 86400000);
      return value.toISOString().slice(0, 10);
    }
    function redraw() {
      var chosen = fieldset.querySelector("input[name=expires_in]:checked");
      var preset = chosen ? chosen.value : "never";
      if (preset === "never") {
        preview.textContent = "Never expires. Organizations with a lifetime limit refuse such tokens.";
        return;
      }
      var today = new Date(fieldset.dataset.today + "T00:00:00Z");
      var stops = /^[0-9]+$/.test(preset) ? day(Number(preset), today) : date.value;
      if (!stops) {
        preview.textContent = "Pick the date it stops working.";
        return;
      }
      var last = day(-1, new Date(stops + "T00:00:00Z"));
      preview.textContent =
        "Last working day: " + last + " (UTC). It stops at 00:00 UTC on " + stops + ".";
    }
    fieldset.addEventListener("change", redraw);
    date.addEventListener("input", function () {
      var custom = fieldset.querySelector("input[name=expires_in][value=custom]");
      if (custom && date.value) custom.checked = true;
      redraw();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpExpiryPreview();
    setUpConfirmations();
    setUpSecurityForm();
    setUpCopyButtons();
  });
})();

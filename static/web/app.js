// Progressive enhancements only: every page works without this file.

document.addEventListener("DOMContentLoaded", function () {
  // Changing the language applies at once; the button stays for keyboards and no-JS.
  var select = document.querySelector(".lang-form select");
  if (select) select.addEventListener("change", function () { select.form.submit(); });
  // A print button (the referral slip): no inline handler, which the CSP would refuse.
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
});

// The referral form: choosing a facility swaps in the list of services it offers (htmx). A
// service picked while that list was on its way is kept when the new list has it.
(function () {
  var kept = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target.id !== "service-field") return;
    var select = event.detail.target.querySelector("select");
    kept = select ? select.value : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    var select = document.querySelector("#service-field select");
    if (kept && select && Array.prototype.some.call(select.options, function (o) { return o.value === kept; })) {
      select.value = kept;
    }
    kept = null;
  });
})();

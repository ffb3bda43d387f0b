// Progressive enhancements only: every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // Changing the language applies at once; the button stays for keyboards and no-JS.
  var select = document.querySelector(".lang-form select");
  if (select) select.addEventListener("change", function () { select.form.submit(); });
  // Print buttons (the referral slip): the CSP allows no inline onclick.
  document.querySelectorAll("[data-action=print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
});

// Progressive enhancements only: every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // Changing the language applies at once; the button stays for keyboards and no-JS.
  var select = document.querySelector(".lang-form select");
  if (select) select.addEventListener("change", function () { select.form.submit(); });
});

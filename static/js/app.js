// Neuroclinic staff UI: small progressive enhancements. Everything works without it.
(function () {
  "use strict";

  // "/" focuses patient search from anywhere, unless the user is typing.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var search = document.getElementById("global-search");
    if (search) {
      event.preventDefault();
      search.focus();
      search.select();
    }
  });

  // Escape closes the search results popover.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var results = document.getElementById("global-search-results");
    if (results) results.innerHTML = "";
  });
})();

/* The upload's job page: ask its progress every second and show it; reload the page when done.
   Without JavaScript the page's meta refresh does the same every two seconds. */
(function () {
  "use strict";
  var section = document.getElementById("job");
  if (!section || !window.fetch) { return; }
  var refresh = document.querySelector('meta[http-equiv="refresh"]');
  if (refresh) { refresh.parentNode.removeChild(refresh); }  // polling takes over
  function show(state) {
    document.getElementById("job-rows").textContent = state.rows;
    document.getElementById("job-percent").textContent = state.percent;
    document.getElementById("job-bar").value = state.percent;
    var label = section.getAttribute("data-phase-" + state.phase);
    if (label) { document.getElementById("job-phase").textContent = label; }
  }
  function poll() {
    fetch(section.getAttribute("data-progress"), { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (state.done) { window.location.reload(); return; }
        show(state);
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
}());

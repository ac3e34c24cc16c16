/* A request's exact point on a small map (officials in scope only), drawn from the page's JSON. */
(function () {
  "use strict";
  var source = document.getElementById("request-data");
  var element = document.getElementById("request-map");
  if (!source || !element || !window.L) { return; }
  var data = JSON.parse(source.textContent);
  if (!data.point) { return; }
  var map = L.map(element, { scrollWheelZoom: false }).setView(data.point, 16);
  if (data.basemap) {
    L.tileLayer(data.basemap, { attribution: data.attribution || "", maxZoom: 19 }).addTo(map);
  }
  L.circleMarker(data.point, { radius: 8, color: "#b42318", weight: 2, fillOpacity: 0.6 }).addTo(map);
  element.setAttribute("data-drawn", "1");
})();

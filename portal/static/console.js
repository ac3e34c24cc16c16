/* The console's preview map: what a feed adds, changes and removes, drawn from the page's JSON. */
(function () {
  "use strict";
  var source = document.getElementById("preview-data");
  var element = document.getElementById("preview-map");
  if (!source || !element || !window.L) { return; }
  var data = JSON.parse(source.textContent);
  var colours = { added: "#067647", changed: "#dc6803", removed: "#b42318" };
  var map = L.map(element, { scrollWheelZoom: false });
  if (data.basemap) {
    L.tileLayer(data.basemap, { attribution: data.attribution || "", maxZoom: 19 }).addTo(map);
  }
  if (data.outline) {
    L.geoJSON(data.outline, { interactive: false, style: { color: "#344054", weight: 1.5, fill: false } }).addTo(map);
  }
  var drawn = L.featureGroup().addTo(map);
  ["removed", "changed", "added"].forEach(function (kind) {
    (data.changes[kind] || []).forEach(function (item) {
      if (!item.geometry) { return; }
      var colour = colours[kind];
      var layer = L.geoJSON(item.geometry, {
        pointToLayer: function (_feature, latlng) {
          return L.circleMarker(latlng, { radius: 7, color: colour, weight: 2, fillColor: colour, fillOpacity: 0.5 });
        },
        style: function () { return { color: colour, weight: 2, fillOpacity: 0.15 }; }
      });
      var tip = document.createElement("span");  // text only: feed values never become HTML
      tip.textContent = data.labels[kind] + ": " + (item.name || item.source_id || "");
      layer.bindTooltip(tip);
      layer.addTo(drawn);
    });
  });
  if (drawn.getLayers().length) {
    map.fitBounds(drawn.getBounds(), { maxZoom: 15, padding: [20, 20] });
  } else if (data.bounds) {
    map.fitBounds(data.bounds);
  } else {
    map.setView([16, 106], 5);
  }
  element.setAttribute("data-drawn", String(drawn.getLayers().length));
})();

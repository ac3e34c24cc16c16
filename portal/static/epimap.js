/* epimap front-end helpers used by the Folium pages. */
(function () {
  "use strict";
  // Leaflet.VectorGrid 1.3.0 calls L.DomEvent.fakeStop, removed in Leaflet 1.8
  // (Leaflet.VectorGrid issue #274, fixed by the unreleased PR #288): restore it.
  if (window.L && L.DomEvent && !L.DomEvent.fakeStop) {
    L.DomEvent.fakeStop = function (e) {
      if (e && e.originalEvent) { e.originalEvent._stopped = true; }
      if (e) { e._stopped = true; }
    };
  }
  var PALETTE = ["#fdb022", "#32d583", "#53b1fd", "#f97066", "#9e77ed", "#fd853a",
                 "#2ed3b7", "#f670c7", "#84caff", "#a6ef67", "#fec84b", "#bdb4fe"];
  function colourFor(code) {
    var h = 0;
    for (var i = 0; i < code.length; i++) { h = (h * 31 + code.charCodeAt(i)) >>> 0; }
    return PALETTE[h % PALETTE.length];
  }
  var epimap = window.epimap = {};
  epimap.featureId = function (f) { return f.properties.code; };
  epimap.childStyle = function (parentCode) {
    return function (props) {
      if (props.parent_code === parentCode) {
        return { weight: 1.2, color: "#344054", opacity: 0.9, fill: true,
                 fillColor: colourFor(props.code), fillOpacity: 0.45 };
      }
      return { weight: 0.6, color: "#98a2b3", opacity: 0.6, fill: false };
    };
  };
  epimap.bindUnitClicks = function (layer, parentCode, urlTemplate) {
    layer.on("click", function (e) {
      var p = e.layer && e.layer.properties;
      if (p && p.parent_code === parentCode) {
        window.location.href = urlTemplate.replace("__CODE__", encodeURIComponent(p.code));
      }
    });
    layer.on("mouseover", function (e) {
      var p = e.layer && e.layer.properties;
      if (p && p.parent_code === parentCode) {
        layer.setFeatureStyle(p.code, { weight: 3, color: "#b42318", fill: true,
                                        fillColor: colourFor(p.code), fillOpacity: 0.65 });
        e.target.getContainer && (e.target.getContainer().style.cursor = "pointer");
      }
    });
    layer.on("mouseout", function (e) {
      var p = e.layer && e.layer.properties;
      if (p) { layer.resetFeatureStyle(p.code); }
    });
  };
})();
(function () {
  "use strict";
  // Draw unit names as text labels (no markers: the data is a compact array).
  window.epimap.addLabels = function (map, labels) {
    labels.forEach(function (item) {
      var span = document.createElement("span");
      span.className = "unit-label";
      span.textContent = item[2];
      L.marker([item[0], item[1]], {
        interactive: false, keyboard: false,
        icon: L.divIcon({ className: "unit-label-icon", html: span, iconSize: null })
      }).addTo(map);
    });
  };
})();
(function () {
  "use strict";
  // Let pages and tests reach the Leaflet map once Folium has built it.
  window.epimap.register = function (map) { window.epimap.map = map; };
})();

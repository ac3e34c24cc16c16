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
  // VectorGrid's point symbolizers are CircleMarkers without a latlng, and Leaflet 1.9 asks
  // every small CircleMarker target for one on each mouse event: give them their tile position.
  if (window.L && L.CircleMarker) {
    var ownLatLng = L.CircleMarker.prototype.getLatLng;
    L.CircleMarker.prototype.getLatLng = function () {
      var tile = this._renderer && this._renderer._tileCoord;
      if (this._latlng || !this._point || !tile) { return ownLatLng.call(this); }
      var size = this._renderer._size;
      var pixel = L.point(tile.x * size.x, tile.y * size.y).add(this._point);
      return L.CRS.EPSG3857.pointToLatLng(pixel, tile.z);
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
  // Children of the unit are filled by their statistic's class colour (grey without data),
  // or by a distinct colour each when no statistic is shown.
  epimap.childStyle = function (parentCode, colours) {
    return function (props) {
      if (props.parent_code === parentCode) {
        var fill = colours ? (colours[props.code] || "#d0d5dd") : colourFor(props.code);
        return { weight: 1.2, color: "#344054", opacity: 0.9, fill: true,
                 fillColor: fill, fillOpacity: colours ? 0.7 : 0.45 };
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
                                        fillColor: colourFor(p.code), fillOpacity: 0.3 });
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
(function () {
  "use strict";
  var epimap = window.epimap;
  var texts = {};
  epimap.setTexts = function (t) { texts = t || {}; };
  function t(key) { return texts[key] || key; }

  // Style of one layer's features; clusters grow with the number of points they hold.
  epimap.overlayOptions = function (meta) {
    var styles = {};
    styles[meta.id] = function (props, zoom, dimension) {
      if (props.cluster) {
        var n = Number(props.count) || 1;
        return { radius: Math.min(26, 5 + 3 * Math.log2(n + 1)), fill: true, fillColor: meta.color,
                 fillOpacity: 0.55, color: "#ffffff", weight: 1.5 };
      }
      if (dimension === 1) { return { radius: 6, fill: true, fillColor: meta.color, fillOpacity: 0.9,
                                      color: "#ffffff", weight: 1.5 }; }
      return { weight: 2, color: meta.color, fill: true, fillColor: meta.color, fillOpacity: 0.25 };
    };
    return { interactive: true, maxNativeZoom: 18, vectorTileLayerStyles: styles,
             getFeatureId: function (f) { return f.properties.id; } };
  };

  // "cập nhật 2 giờ trước" / "updated 2 hours ago" from an epoch in seconds.
  epimap.ago = function (epochSeconds) {
    if (!epochSeconds) { return ""; }
    var seconds = (epochSeconds * 1000 - Date.now()) / 1000;
    var units = [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60]];
    var format = new Intl.RelativeTimeFormat(document.documentElement.lang || "vi", { numeric: "auto" });
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(seconds) >= units[i][1]) {
        return format.format(Math.round(seconds / units[i][1]), units[i][0]);
      }
    }
    return format.format(Math.round(seconds / 60), "minute");
  };

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  // Popup content built with textContent only: nothing in a feed can become HTML or script.
  epimap.popupContent = function (meta, props) {
    var box = element("div", "feature-popup");
    if (props.cluster) {
      box.appendChild(element("strong", null, meta.title));
      box.appendChild(element("p", null, props.count + " " + t("features_here")));
      box.appendChild(element("p", "muted", t("zoom_in")));
      return box;
    }
    box.appendChild(element("strong", null, props.name || meta.title));
    box.appendChild(element("div", "muted", meta.title));
    var list = element("dl");
    meta.fields.forEach(function (field) {
      var value = props[field[0]];
      if (field[0] === "name" || value === undefined || value === null || value === "") { return; }
      list.appendChild(element("dt", null, field[1]));
      list.appendChild(element("dd", null, value));
    });
    box.appendChild(list);
    if (props.approximate === true || props.approximate === "true") {
      box.appendChild(element("p", "approximate", t("approximate")));
    }
    box.appendChild(element("p", "muted freshness", t("updated") + " " + epimap.ago(props.updated)));
    return box;
  };

  epimap.bindPopups = function (grid, meta) {
    grid.on("click", function (e) {
      var props = e.layer && e.layer.properties;
      if (!props) { return; }
      // VectorGrid's SVG features fire without a latlng: take it from the mouse event.
      var latlng = e.latlng || epimap.map.mouseEventToLatLng(e.originalEvent);
      L.popup({ maxWidth: 280 }).setLatLng(latlng).setContent(epimap.popupContent(meta, props))
        .openOn(epimap.map);
    });
  };

  epimap.addLegend = function (map, metas) {
    var Legend = L.Control.extend({
      options: { position: "bottomright" },
      onAdd: function () {
        var box = element("div", "legend leaflet-bar");
        box.appendChild(element("strong", null, t("legend")));
        metas.forEach(function (meta) {
          var row = element("div", "legend-row");
          var swatch = element("span", "swatch " + meta.geometry);
          swatch.style.background = meta.color;
          row.appendChild(swatch);
          row.appendChild(element("span", null, meta.title + " (" + meta.count + ")"));
          row.appendChild(element("span", "muted", " · " + t("updated").toLowerCase() + " " + epimap.ago(meta.updated)));
          box.appendChild(row);
        });
        L.DomEvent.disableClickPropagation(box);
        return box;
      }
    });
    new Legend().addTo(map);
  };
})();

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
  var GAP = 2;  // px kept free around a label

  function overlaps(a, b) {
    return a.left < b.right + GAP && b.left < a.right + GAP && a.top < b.bottom + GAP && b.top < a.bottom + GAP;
  }

  function inside(box, size) {
    return box.left >= 0 && box.top >= 0 && box.right <= size.x && box.bottom <= size.y;
  }

  // A label's box in the map's pixels, from its point and its size (never from the screen, which
  // lags behind while a zoom animation finishes); labels are centred on their point.
  function boxOf(map, label) {
    var p = map.latLngToContainerPoint(label.latlng);
    var w = label.span.offsetWidth, h = label.span.offsetHeight;
    return { left: p.x - w / 2, right: p.x + w / 2, top: p.y - h / 2, bottom: p.y + h / 2, width: w };
  }

  // Show a label only when it lies wholly in the map and clears every label shown before it;
  // ``labels`` come in priority order (most populous unit first), so big units keep their names.
  function declutter(map, labels) {
    var size = map.getSize();
    var shown = [];
    var visible = labels.map(function (label) {
      var box = boxOf(map, label);
      var ok = box.width > 0 && inside(box, size) && !shown.some(function (s) { return overlaps(box, s); });
      if (ok) { shown.push(box); }
      return ok;
    });
    labels.forEach(function (label, i) {
      label.span.style.visibility = visible[i] ? "visible" : "hidden";
      label.span.setAttribute("data-shown", visible[i] ? "1" : "0");
    });
  }

  // Draw unit names as text labels at their label points (no markers: the data is a compact array
  // in priority order) and hide those that would collide, again after each zoom, pan or resize.
  window.epimap.addLabels = function (map, labels) {
    var placed = labels.map(function (item) {
      var span = document.createElement("span");
      span.className = "unit-label";
      span.textContent = item[2];
      span.style.visibility = "hidden";  // until placed, so colliding names never flash
      L.marker([item[0], item[1]], {
        interactive: false, keyboard: false,
        icon: L.divIcon({ className: "unit-label-icon", html: span, iconSize: null })
      }).addTo(map);
      return { span: span, latlng: L.latLng(item[0], item[1]) };
    });
    var pending = null, moving = false;
    function later() {
      if (pending) { window.cancelAnimationFrame(pending); }
      window.epimap.labelsPending = true;  // tests wait for the names to be placed
      pending = window.requestAnimationFrame(function () {
        pending = null;
        if (moving) { return; }  // names are placed once the map stops; mid-animation boxes are stale
        declutter(map, placed);
        window.epimap.labelsPending = false;
      });
    }
    map.on("movestart zoomstart", function () { moving = true; window.epimap.labelsPending = true; });
    map.on("moveend zoomend", function () { moving = false; later(); });
    map.on("resize viewreset", later);
    map.whenReady(later);
    // The map's box can change size without a window resize (a page's layout settling, a phone turned).
    if (window.ResizeObserver) { new ResizeObserver(later).observe(map.getContainer()); }
    if (document.fonts && document.fonts.ready) { document.fonts.ready.then(later); }
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
      if (meta.geometry !== "polygon") {
        return { weight: 2, color: meta.color, fill: true, fillColor: meta.color, fillOpacity: 0.25 };
      }
      var state = epimap.periodState(meta, props);
      if (state === "out") { return { stroke: false, fill: false, interactive: false }; }
      // Areas are outlined and hatched, never a flat red a reader could take for a choropleth class.
      return { weight: 2.5, color: meta.color, dashArray: state === "ended" ? "6 4" : null, fill: true,
               fillColor: "url(#" + epimap.hatch(meta.color) + ")", fillOpacity: 1 };
    };
    return { interactive: true, maxNativeZoom: 18, vectorTileLayerStyles: styles,
             getFeatureId: function (f) { return f.properties.id; } };
  };

  // A feature with a period (a lockdown zone) on the map's day: "out" (not in force then: not drawn),
  // "ended" (in force that day, over since) or "current".
  epimap.periodState = function (meta, props) {
    if (!meta.period) { return "current"; }
    var day = meta.period.day;
    if (!props.valid_from || props.valid_from > day || (props.valid_to && props.valid_to < day)) { return "out"; }
    return props.valid_to && props.valid_to < meta.period.today ? "ended" : "current";
  };

  // One SVG hatch pattern per colour, shared by every tile of the page.
  epimap.hatch = function (colour) {
    var id = "hatch-" + colour.replace(/[^0-9a-z]/gi, "");
    if (document.getElementById(id)) { return id; }
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.getElementById("epimap-patterns");
    if (!svg) {
      svg = document.createElementNS(ns, "svg");
      svg.id = "epimap-patterns";
      svg.setAttribute("aria-hidden", "true");
      svg.setAttribute("style", "position:absolute;width:0;height:0");
      svg.appendChild(document.createElementNS(ns, "defs"));
      document.body.appendChild(svg);
    }
    var pattern = document.createElementNS(ns, "pattern");
    pattern.id = id;
    pattern.setAttribute("patternUnits", "userSpaceOnUse");
    pattern.setAttribute("width", "8");
    pattern.setAttribute("height", "8");
    pattern.setAttribute("patternTransform", "rotate(45)");
    var back = document.createElementNS(ns, "rect");
    back.setAttribute("width", "8");
    back.setAttribute("height", "8");
    back.setAttribute("fill", "#ffffff");
    back.setAttribute("fill-opacity", "0.35");
    var line = document.createElementNS(ns, "rect");
    line.setAttribute("width", "2.5");
    line.setAttribute("height", "8");
    line.setAttribute("fill", colour);
    pattern.appendChild(back);
    pattern.appendChild(line);
    svg.firstChild.appendChild(pattern);
    return id;
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
    if (epimap.periodState(meta, props) === "ended") {
      box.appendChild(element("p", "ended", t("zone_ended") + " " + epimap.dayText(props.valid_to)));
    }
    var list = element("dl");
    meta.fields.forEach(function (field) {
      var value = props[field[0]];
      if (field[0] === "name" || value === undefined || value === null || value === "") { return; }
      list.appendChild(element("dt", null, field[1]));
      list.appendChild(element("dd", null, epimap.fieldText(field, value)));
    });
    box.appendChild(list);
    if (props.approximate === true || props.approximate === "true") {
      box.appendChild(element("p", "approximate", t("approximate")));
    }
    box.appendChild(element("p", "muted freshness", t("updated") + " " + epimap.ago(props.updated)));
    return box;
  };

  // A value as people read it: a choice's label, a date or a number in the page's language.
  epimap.fieldText = function (field, value) {
    var type = field[2], labels = field[3] || {};
    if (type === "choice") { return labels[value] || String(value); }
    if (type === "date") { return epimap.dayText(String(value).slice(0, 10)); }
    if ((type === "int" || type === "number") && value !== "" && !isNaN(Number(value))) {
      return Number(value).toLocaleString(document.documentElement.lang === "en" ? "en-GB" : "vi-VN");
    }
    return String(value);
  };

  // "16/08/2021" in Vietnamese, "16 Aug 2021" in English, from an ISO date.
  epimap.dayText = function (iso) {
    var parts = String(iso).split("-");
    if (parts.length !== 3) { return String(iso); }
    if ((document.documentElement.lang || "vi") === "vi") { return parts[2] + "/" + parts[1] + "/" + parts[0]; }
    var months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    return Number(parts[2]) + " " + months[Number(parts[1]) - 1] + " " + parts[0];
  };

  epimap.grids = {};  // layer id -> its VectorGrid, so the legend lists only the layers switched on
  epimap.PHONE = "(max-width: 700px)";

  // On a phone the layer switcher starts folded: expanded, it would cover most of the map.
  epimap.foldOnPhones = function (map, control) {
    if (!window.matchMedia || !window.matchMedia(epimap.PHONE).matches || control.options.collapsed) { return; }
    control.remove();
    control.options.collapsed = true;
    control.addTo(map);
  };

  epimap.bindPopups = function (grid, meta) {
    epimap.grids[meta.id] = grid;
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
        // A <details>: open on wide screens, folded on phones so the map stays visible.
        var box = element("details", "legend leaflet-bar");
        box.open = !(window.matchMedia && window.matchMedia(epimap.PHONE).matches);
        box.appendChild(element("summary", null, t("legend")));
        var rows = element("div", "legend-rows");
        box.appendChild(rows);
        function fill() {
          rows.textContent = "";
          metas.forEach(function (meta) {
            var grid = epimap.grids[meta.id];
            if (grid && !map.hasLayer(grid)) { return; }  // only the layers switched on
            var row = element("div", "legend-row");
            row.setAttribute("data-layer", meta.id);
            var swatch = element("span", "swatch " + meta.geometry);
            swatch.style.background = meta.color;
            if (meta.geometry === "polygon") {
              swatch.style.background = "repeating-linear-gradient(45deg, " + meta.color + " 0 2px, #fff 2px 5px)";
            }
            row.appendChild(swatch);
            var title = meta.title + " (" + meta.count + ")";
            if (meta.period && meta.period.day < meta.period.today) {
              title += " · " + t("in_force_on") + " " + epimap.dayText(meta.period.day);
            }
            row.appendChild(element("span", null, title));
            if (meta.updated) {
              row.appendChild(element("span", "muted", " · " + t("updated").toLowerCase() + " " + epimap.ago(meta.updated)));
            }
            rows.appendChild(row);
          });
        }
        fill();
        map.on("overlayadd overlayremove", fill);
        L.DomEvent.disableClickPropagation(box);
        return box;
      }
    });
    new Legend().addTo(map);
  };
})();

/* Citizens' requests: counts per commune at its label point (never a request's own point),
   fetched from the public download the first time the layer is switched on. */
(function () {
  "use strict";
  var epimap = window.epimap;

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function popup(meta, p) {
    var texts = meta.texts;
    var lang = document.documentElement.lang || "vi";
    var box = element("div", "feature-popup request-counts");
    box.appendChild(element("strong", null, p.commune_name));
    box.appendChild(element("div", "muted", meta.title));
    box.appendChild(element("p", null, p.open + " " + texts.open + " · " + p.resolved + " " + texts.resolved));
    var list = element("dl");
    Object.keys(p.kinds || {}).forEach(function (code) {
      var kind = p.kinds[code];
      var line = kind.open + " " + texts.open + " · " + kind.resolved + " " + texts.resolved;
      if (kind.median_hours_to_resolve !== null && kind.median_hours_to_resolve !== undefined) {
        line += " · " + texts.median + " " + kind.median_hours_to_resolve + " " + texts.hours;
      }
      list.appendChild(element("dt", null, lang === "en" ? kind.title_en : kind.title_vi));
      list.appendChild(element("dd", null, line));
    });
    box.appendChild(list);
    return box;
  }

  epimap.addRequestCounts = function (map, meta) {
    var group = L.featureGroup();
    var loaded = false;
    epimap.grids[meta.id] = group;
    group.on("add", function () {
      if (loaded || !window.fetch) { return; }
      loaded = true;
      fetch(meta.url).then(function (r) { return r.json(); }).then(function (data) {
        (data.features || []).forEach(function (f) {
          var p = f.properties;
          var c = f.geometry.coordinates;
          var radius = Math.min(28, 6 + 3 * Math.sqrt(p.open + p.resolved));
          L.circleMarker([c[1], c[0]], { radius: radius, color: "#fff", weight: 1.5, fillColor: meta.color,
                                         fillOpacity: 0.8, className: "request-count" })
            .bindPopup(function () { return popup(meta, p); }, { maxWidth: 280 }).addTo(group);
        });
      });
    });
    if (meta.shown) { group.addTo(map); }
    return group;
  };

  epimap.addRequestCountsControl = function (control, meta) {
    control.addOverlay(epimap.grids[meta.id], meta.title);
  };
})();

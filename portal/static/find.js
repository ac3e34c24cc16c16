/* "Dùng vị trí của tôi": the phone's position -> /api/nearby -> the same list as the server's,
   built with textContent only (nothing from a feed can become HTML), and a small Leaflet map. */
(function () {
  "use strict";
  var configNode = document.getElementById("find-config");
  var button = document.getElementById("find-locate");
  if (!configNode || !button || !navigator.geolocation || !window.fetch) { return; }
  var config = JSON.parse(configNode.textContent);
  var texts = config.texts;
  var statusNode = document.getElementById("find-status");
  var results = document.getElementById("find-results");
  var mapNode = document.getElementById("find-map");
  var map = null;
  var markers = null;

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function link(href, text, external) {
    var a = element("a", null, text);
    a.href = href;
    if (external) { a.rel = "noopener"; a.target = "_blank"; }
    return a;
  }

  function setStatus(text) { statusNode.textContent = text || ""; }

  function distance(metres) {
    if (Math.round(metres) < 1000) { return Math.round(metres) + " m"; }
    var km = (metres / 1000).toFixed(1);
    return (config.lang === "vi" ? km.replace(".", ",") : km) + " km";
  }

  function ago(iso) {
    var seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    var units = [["day", 86400], ["hour", 3600], ["minute", 60]];
    for (var i = 0; i < units.length; i++) {
      if (seconds >= units[i][1]) {
        var n = Math.floor(seconds / units[i][1]);
        return texts["find_ago_" + units[i][0] + (n === 1 ? "" : "s")].replace("{n}", n);
      }
    }
    return texts.find_ago_now;
  }

  function telUri(phone) {
    var digits = String(phone).replace(/\D/g, "");
    return digits.charAt(0) === "0" && digits.length >= 10 ? "tel:+84" + digits.slice(1) : "tel:" + digits;
  }

  function weekdayTime(iso) {  // "Thứ Hai 07:30", as the server-side list says it
    var when = new Date(iso);
    var options = { weekday: "long", hour: "2-digit", minute: "2-digit", hour12: false,
                    timeZone: "Asia/Ho_Chi_Minh" };
    return when.toLocaleString(config.lang === "en" ? "en-GB" : "vi-VN", options).replace(" lúc", "");
  }

  function siteItem(feature) {
    var p = feature.properties;
    var lon = feature.geometry.coordinates[0];
    var lat = feature.geometry.coordinates[1];
    var status = p.open_now === true ? "open" : p.open_now === false ? "closed" : "unknown";
    var item = element("li", "site" + (p.in_lockdown ? " in-lockdown" : ""));
    item.appendChild(element("h3", "site-name", p.name || ""));
    var meta = element("p", "site-meta");
    meta.appendChild(element("span", "site-distance", distance(p.distance_m)));
    meta.appendChild(document.createTextNode(" · "));
    meta.appendChild(element("span", "site-status status-" + status, texts["find_status_" + status]));
    item.appendChild(meta);
    if (status === "closed" && p.opens_at) {
      item.appendChild(element("p", "site-opens", texts.find_opens_at.replace("{when}", weekdayTime(p.opens_at))));
    }
    if (p.in_lockdown) { item.appendChild(element("p", "site-warning", texts.find_in_lockdown)); }
    if (p.address) { item.appendChild(element("p", "site-address", p.address)); }
    if (p.hours) { item.appendChild(element("p", "site-hours", texts.find_hours + ": " + p.hours)); }
    if (p.test_types) {
      item.appendChild(element("p", "site-tests", texts.find_test_types + ": " + p.test_types));
    }
    if (p.phone) {
      var phone = element("p");
      if (p.phone_dialable) {  // a number the ingest could not read is text, never a tel: link
        var call = link(telUri(p.phone), p.phone, false);
        call.className = "site-phone";
        phone.appendChild(call);
      } else {
        phone.appendChild(element("span", "site-phone-text", p.phone));
      }
      item.appendChild(phone);
    }
    var links = element("p", "site-links");
    links.appendChild(link("https://www.openstreetmap.org/directions?to=" + lat + "," + lon,
                           texts.find_directions, true));
    links.appendChild(document.createTextNode(" "));
    links.appendChild(link("geo:" + lat + "," + lon, texts.find_open_in_app, false));
    links.appendChild(document.createTextNode(" "));
    links.appendChild(link("https://www.openstreetmap.org/?mlat=" + lat + "&mlon=" + lon + "#map=17/" + lat +
                           "/" + lon, texts.find_on_map, true));
    item.appendChild(links);
    var fresh = texts.find_updated.replace("{ago}", ago(p.updated));
    if (p.stale) { fresh += " — " + texts.find_call_to_confirm; }
    item.appendChild(element("p", "site-fresh" + (p.stale ? " stale" : ""), fresh));
    if (p.approximate) { item.appendChild(element("p", "approximate", texts.approximate)); }
    return item;
  }

  function drawMap(lat, lon, features) {
    if (!window.L) { return; }
    mapNode.hidden = false;
    if (!map) {
      map = L.map(mapNode, { scrollWheelZoom: false });
      if (config.basemap) {
        L.tileLayer(config.basemap, { attribution: config.attribution, maxZoom: 19 }).addTo(map);
      }
      markers = L.layerGroup().addTo(map);
      window.epimapFind = { map: map };
    }
    map.invalidateSize();
    markers.clearLayers();
    var bounds = L.latLngBounds([[lat, lon]]);
    // Pins carry the number of their list entry; "you are here" is drawn last, above them.
    features.forEach(function (f, i) {
      var point = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
      bounds.extend(point);
      var icon = L.divIcon({ className: "find-pin", html: element("span", null, i + 1),
                             iconSize: [26, 26], iconAnchor: [13, 13] });
      L.marker(point, { icon: icon, keyboard: false, zIndexOffset: -i })
        .bindTooltip(element("span", null, (i + 1) + ". " + (f.properties.name || ""))).addTo(markers);
    });
    var me = L.divIcon({ className: "find-you", html: "", iconSize: [18, 18], iconAnchor: [9, 9] });
    L.marker([lat, lon], { icon: me, keyboard: false, zIndexOffset: 10000 })
      .bindTooltip(element("span", null, texts.find_you_are_here)).addTo(markers);
    map.fitBounds(bounds, { padding: [20, 20], maxZoom: 16 });
  }

  function render(lat, lon, body) {
    results.textContent = "";
    if (body.note) { results.appendChild(element("p", "find-message", body.note)); }
    results.appendChild(element("h2", null, texts.find_near_you));
    if (!body.features.length) {
      if (!body.note) { results.appendChild(element("p", "find-message", texts.find_no_results)); }
      mapNode.hidden = true;
      return;
    }
    var list = element("ol", "find-list");
    body.features.forEach(function (f) { list.appendChild(siteItem(f)); });
    results.appendChild(list);
    drawMap(lat, lon, body.features);
  }

  function search(lat, lon) {
    var kind = document.getElementById("find-kind").value;
    var params = new URLSearchParams({ lat: lat.toFixed(6), lon: lon.toFixed(6), layer: config.layers[kind],
                                       limit: String(config.limit), lang: config.lang });
    if (document.getElementById("find-open-now").checked) { params.set("open_now", "1"); }
    if (document.getElementById("find-exclude-lockdown").checked) { params.set("exclude_lockdown", "1"); }
    setStatus(texts.find_searching);
    fetch(config.api + "?" + params.toString(), { headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (answer) {
        if (!answer.ok) { setStatus(answer.body.error || texts.find_location_error); return; }
        setStatus("");
        render(lat, lon, answer.body);
      })
      .catch(function () { setStatus(texts.find_location_error); });
  }

  button.hidden = false;
  var or = document.querySelector(".find-or");
  if (or) { or.hidden = false; }
  var here = null;  // the last position found: changing the kind or a filter searches again from it
  function locate() {
    setStatus(texts.find_locating);
    navigator.geolocation.getCurrentPosition(
      function (position) {
        here = [position.coords.latitude, position.coords.longitude];
        search(here[0], here[1]);
      },
      function () { setStatus(texts.find_location_error); },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }
  button.addEventListener("click", locate);
  ["find-kind", "find-open-now", "find-exclude-lockdown"].forEach(function (id) {
    var input = document.getElementById(id);
    if (input) { input.addEventListener("change", function () { if (here) { search(here[0], here[1]); } }); }
  });
  // The home page's "use my location" link lands here with ?locate=1: the person asked for it.
  if (new URLSearchParams(window.location.search).get("locate") === "1") { locate(); }
})();

/* The request form's map: drop a pin or "Dùng vị trí của tôi" fills the hidden lon/lat.
   Without this script the form still works: the commune typed by name and the address. */
(function () {
  "use strict";
  var configNode = document.getElementById("req-config");
  var tools = document.querySelector(".req-map-tools");
  if (!configNode || !tools || !window.L) { return; }
  var config = JSON.parse(configNode.textContent);
  var lon = document.getElementById("req-lon");
  var lat = document.getElementById("req-lat");
  var statusNode = document.getElementById("req-map-status");
  var clear = document.getElementById("req-pin-clear");
  var locate = document.getElementById("req-locate");
  tools.hidden = false;

  var map = L.map("req-map", { scrollWheelZoom: false });
  if (config.basemap) {
    L.tileLayer(config.basemap, { attribution: config.attribution, maxZoom: 19 }).addTo(map);
  }
  var b = config.bounds;
  if (b) { map.fitBounds([[b[1], b[0]], [b[3], b[2]]]); } else { map.setView([16, 106], 5); }
  var pin = null;

  function setStatus(text) { statusNode.textContent = text || ""; }

  function place(latlng, zoom) {
    lon.value = latlng.lng.toFixed(6);
    lat.value = latlng.lat.toFixed(6);
    if (pin) { pin.setLatLng(latlng); } else {
      pin = L.circleMarker(latlng, { radius: 9, color: "#fff", weight: 3, fillColor: "#b42318", fillOpacity: 1 })
        .addTo(map);
    }
    if (zoom) { map.setView(latlng, Math.max(map.getZoom(), 16)); }
    clear.hidden = false;
    setStatus(config.texts.pin_set);
  }

  if (lon.value && lat.value && !isNaN(+lon.value) && !isNaN(+lat.value)) {
    place(L.latLng(+lat.value, +lon.value), true);
  }
  map.on("click", function (e) { place(e.latlng, false); });
  clear.addEventListener("click", function () {
    lon.value = ""; lat.value = "";
    if (pin) { map.removeLayer(pin); pin = null; }
    clear.hidden = true;
    setStatus("");
  });
  if (!navigator.geolocation) { locate.hidden = true; return; }
  locate.addEventListener("click", function () {
    setStatus(config.texts.locating);
    navigator.geolocation.getCurrentPosition(function (position) {
      place(L.latLng(position.coords.latitude, position.coords.longitude), true);
    }, function () {
      setStatus(config.texts.locate_failed);
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
})();

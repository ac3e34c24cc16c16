/* Sharing: the "Embed this map" dialog of unit pages, and the credit line of embedded maps. */
(function () {
  "use strict";

  function escapeHtml(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;");
  }

  // The embed page: credit the portal and its licence in Leaflet's attribution control.
  function creditEmbed() {
    var credit = document.body.getAttribute("data-attribution");
    var map = window.epimap && window.epimap.map;
    if (credit && map && map.attributionControl) {
      map.attributionControl.addAttribution(escapeHtml(credit));
      // A narrow embed keeps its credit to a line or two over the map: no Leaflet prefix.
      if (map.getSize().x < 480) { map.attributionControl.setPrefix(false); }
    }
  }

  // The unit page: build the <iframe> code from the dialog's choices.
  function embedDialog(dialog) {
    var form = dialog.querySelector("form");
    var output = dialog.querySelector(".embed-code");
    var preview = dialog.querySelector(".embed-preview");
    var status = dialog.querySelector(".embed-status");

    function chosen(name) {
      var input = form.querySelector("input[name='" + name + "']:checked");
      return input ? input.value : "";
    }

    function source() {
      var layers = [], pins = [];
      form.querySelectorAll("input[name='layer']:checked").forEach(function (box) {
        layers.push(box.value);
        pins.push(box.value + ":" + box.getAttribute("data-publication"));
      });
      var params = ["layers=" + layers.map(encodeURIComponent).join(","),
                    "stat=" + encodeURIComponent(form.querySelector("select[name='stat']").value)];
      if (chosen("mode") === "pinned") {
        if (pins.length) { params.push("pub=" + pins.map(encodeURIComponent).join(",").replace(/%3A/g, ":")); }
        if (dialog.getAttribute("data-date")) { params.push("date=" + dialog.getAttribute("data-date")); }
      }
      params.push("lang=" + encodeURIComponent(dialog.getAttribute("data-lang") || "vi"));
      return dialog.getAttribute("data-embed-url") + "?" + params.join("&");
    }

    function update() {
      var size = chosen("size");
      var src = source();
      var title = escapeHtml(dialog.getAttribute("data-title"));
      if (size === "responsive") {  // as wide as the article, a fixed shape (portal.share.embed.iframe_html)
        output.value = '<iframe src="' + escapeHtml(src) + '" width="100%" style="border:0;width:100%;' +
          'max-width:100%;aspect-ratio:4/3;height:auto;min-height:460px" loading="lazy" title="' + title +
          '"></iframe>';
      } else {
        size = size.split("x");
        output.value = '<iframe src="' + escapeHtml(src) + '" width="' + escapeHtml(size[0]) + '" height="' +
          escapeHtml(size[1]) + '" style="border:0;max-width:100%" loading="lazy" title="' + title + '"></iframe>';
      }
      preview.href = src;
      status.textContent = "";
    }

    function copied(ok) {
      status.textContent = dialog.getAttribute(ok ? "data-copied" : "data-copy-failed");
    }

    dialog.querySelector(".embed-copy").addEventListener("click", function () {
      output.focus();
      output.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(output.value).then(function () { copied(true); },
                                                        function () { copied(document.execCommand("copy")); });
      } else {
        copied(document.execCommand("copy"));
      }
    });
    form.addEventListener("change", update);
    document.querySelectorAll("[data-opens='" + dialog.id + "']").forEach(function (button) {
      button.addEventListener("click", function () {
        update();
        if (typeof dialog.showModal === "function") { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
      });
    });
    update();
  }

  function start() {
    if (document.body.classList.contains("embed")) { creditEmbed(); }
    document.querySelectorAll("dialog.embed-dialog").forEach(embedDialog);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

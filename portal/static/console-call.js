/* Taking a call: once the caller's number is typed (Enter or leaving the field), show their earlier
   requests without reloading, and move on to the kind.  Without this script, Enter posts the form,
   which answers with the same list (portal/console/requests.py: take_call). */
(function () {
  "use strict";
  var form = document.getElementById("call-form");
  var phone = document.getElementById("caller-phone");
  var box = document.getElementById("earlier");
  var kind = document.getElementById("call-kind");
  if (!form || !phone || !box || !window.fetch) { return; }
  var asked = null;

  function show(data) {
    box.textContent = "";
    if (data.error) {
      var problem = document.createElement("p");
      problem.className = "error field-error";
      problem.textContent = data.error;
      box.appendChild(problem);
      return;
    }
    var title = document.createElement("h2");
    title.textContent = box.getAttribute("data-title");
    box.appendChild(title);
    if (!data.requests.length) {
      var none = document.createElement("p");
      none.className = "muted";
      none.textContent = box.getAttribute("data-none");
      box.appendChild(none);
      return;
    }
    var list = document.createElement("ul");
    list.className = "earlier-list";
    data.requests.forEach(function (item) {
      var li = document.createElement("li");
      var link = document.createElement("a");
      link.href = item.url;
      link.textContent = item.ref;
      li.appendChild(link);
      li.appendChild(document.createTextNode(" · " + item.kind + " · " + item.status + " · " + item.created));
      list.appendChild(li);
    });
    box.appendChild(list);
  }

  function lookUp(then) {
    var number = phone.value.trim();
    if (!number || number === asked) { if (then) { then(); } return; }
    asked = number;
    var body = new URLSearchParams();  // posted: a phone number in a URL would reach access logs
    body.set("phone", number);
    body.set("csrf_token", form.elements.csrf_token.value);
    fetch(form.getAttribute("data-lookup"), { method: "POST", body: body, credentials: "same-origin",
                                              headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) { show(data); if (then) { then(); } })
      .catch(function () { asked = null; });
  }

  phone.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") { return; }
    event.preventDefault();
    lookUp(function () { if (kind) { kind.focus(); } });
  });
  phone.addEventListener("blur", function () { lookUp(null); });
})();

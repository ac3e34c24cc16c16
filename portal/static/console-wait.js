/* The sign-in form after too many failures: the button waits by itself (counting down) and comes
   back when a try is allowed again, so nobody has to guess when to press it. */
(function () {
  "use strict";
  var button = document.getElementById("sign-in-wait");
  if (!button) { return; }
  var label = button.textContent;
  var left = parseInt(button.getAttribute("data-retry-after"), 10) || 0;
  var waiting = button.getAttribute("data-waiting") || "";
  function tick() {
    if (left <= 0) {
      button.disabled = false;
      button.textContent = label;
      return;
    }
    button.disabled = true;
    button.textContent = waiting.replace("{s}", String(left));
    left -= 1;
    window.setTimeout(tick, 1000);
  }
  tick();
}());

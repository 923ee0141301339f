// The simulator's conversation: while a message to the person is on its way, fetch the
// conversation again every second and put it in place, until nothing more is coming.
// Without this script the page reloads itself instead (a <noscript> refresh).
(function () {
  "use strict";
  var WAIT_MS = 1000;
  var MOST_TRIES = 120; // two minutes: a worker that is not running must not be asked forever

  function poll(box, tries) {
    if (!box || box.getAttribute("data-pending") !== "true" || tries >= MOST_TRIES) {
      return;
    }
    window.setTimeout(function () {
      fetch(box.getAttribute("data-src"), { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("the conversation did not load: " + response.status);
          }
          return response.text();
        })
        .then(function (html) {
          var holder = document.createElement("div");
          holder.innerHTML = html;
          var fresh = holder.querySelector("#conversation");
          if (fresh) {
            box.replaceWith(fresh);
            poll(fresh, tries + 1);
          }
        })
        .catch(function () {
          poll(box, tries + 1);
        });
    }, WAIT_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    poll(document.getElementById("conversation"), 0);
  });
})();

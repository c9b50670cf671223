// Interview page: the recording follows the transcript, and turns, evidence and timeline segments seek it.
(function () {
  "use strict";
  var player = document.getElementById("player");
  var turns = Array.prototype.slice.call(document.querySelectorAll("#transcript .turn"));
  if (!player) { return; }
  // second 0 of the recording on the transcript's clock (the recording starts when the session does)
  var offset = parseFloat(player.dataset.offset || "0") || 0;
  var current = null;

  function setCurrent(turn, scroll) {
    if (turn === current) { return; }
    if (current) { current.classList.remove("current"); current.removeAttribute("aria-current"); }
    current = turn;
    if (turn) {
      turn.classList.add("current");
      turn.setAttribute("aria-current", "true");
      if (scroll) { turn.scrollIntoView({ block: "nearest", behavior: "smooth" }); }
    }
  }

  function turnAt(t) {
    var found = null;
    for (var i = 0; i < turns.length; i++) {
      var start = parseFloat(turns[i].dataset.start);
      if (start <= t + 0.05) { found = turns[i]; } else { break; }
    }
    if (found && t > parseFloat(found.dataset.end) + 1.0) { return null; }  // in a silence
    return found;
  }

  function seek(seconds, turn) {
    player.currentTime = Math.max(0, seconds - offset);
    setCurrent(turn || turnAt(seconds), true);
    var played = player.play();
    if (played && played.catch) { played.catch(function () { /* autoplay refused: the seek still happened */ }); }
  }

  player.addEventListener("timeupdate", function () { setCurrent(turnAt(player.currentTime + offset), !player.paused); });

  turns.forEach(function (turn) {
    turn.addEventListener("click", function (ev) {
      if (window.getSelection && String(window.getSelection()).length > 0) { return; }  // selecting text
      ev.preventDefault();
      seek(parseFloat(turn.dataset.start), turn);
    });
  });

  document.querySelectorAll("[data-at]").forEach(function (el) {
    if (el.closest && el.closest("#transcript")) { return; }  // handled by the turn itself
    el.addEventListener("click", function () {
      var turn = el.dataset.turn ? document.getElementById("turn-" + el.dataset.turn) : null;
      seek(parseFloat(el.dataset.at), turn);
    });
  });
})();

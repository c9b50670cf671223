// Times arrive as <time datetime="…Z" data-local>… UTC</time>; show them in the viewer's own time zone.
(function () {
  "use strict";
  var fmt = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
  });
  document.querySelectorAll("time[data-local]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (!isNaN(when)) {
      el.title = el.textContent;  // the UTC time stays one hover away
      el.textContent = fmt.format(when);
    }
  });
})();

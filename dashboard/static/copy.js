// Copy buttons: <button class="copy" data-copy="input-id"> copies that input's value.
(function () {
  "use strict";
  document.querySelectorAll("button.copy").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var input = document.getElementById(btn.dataset.copy);
      var note = btn.parentNode.querySelector(".copied");
      function done(ok) { if (note) { note.textContent = ok ? "Copied" : "Select the link and copy it"; } }
      input.focus();
      input.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(function () { done(true); }, function () {
          done(document.execCommand && document.execCommand("copy"));
        });
      } else {
        done(document.execCommand && document.execCommand("copy"));
      }
    });
  });
})();

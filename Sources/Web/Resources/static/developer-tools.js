// Comfort for the app forms; everything works without it except scaling a picked picture to 32×32.
(function () {
  "use strict";

  // "+" adds another redirect URL or origin field.
  document.querySelectorAll("button.add").forEach(function (button) {
    button.addEventListener("click", function () {
      var list = document.querySelector('[data-repeat="' + button.dataset.add + '"]');
      var last = list.querySelector("input:last-of-type");
      var copy = last.cloneNode(false);
      copy.value = "";
      list.appendChild(copy);
      copy.focus();
    });
  });

  // Ticking Write ticks Read; unticking Read unticks Write.
  document.querySelectorAll('input[name="scopes"]').forEach(function (box) {
    box.addEventListener("change", function () {
      var group = box.dataset.group;
      var read = document.querySelector('input[data-group="' + group + '"][data-kind="read"]');
      var write = document.querySelector('input[data-group="' + group + '"][data-kind="write"]');
      if (box === write && write.checked && read) { read.checked = true; }
      if (box === read && !read.checked && write) { write.checked = false; }
    });
  });

  // A picked raster picture is drawn on a 32×32 canvas and uploaded as that PNG; SVG goes as it is.
  var input = document.getElementById("logo");
  var preview = document.getElementById("logo-preview");
  var kept = document.getElementById("logo_data");
  if (input) {
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file) { return; }
      if (kept) { kept.value = ""; }
      if (file.type === "image/svg+xml" || /\.svg$/i.test(file.name)) {
        var svgReader = new FileReader();
        svgReader.onload = function () { preview.src = svgReader.result; preview.hidden = false; };
        svgReader.readAsDataURL(file);
        return;
      }
      var reader = new FileReader();
      reader.onload = function () {
        var image = new Image();
        image.onload = function () {
          var canvas = document.createElement("canvas");
          canvas.width = 32;
          canvas.height = 32;
          var context = canvas.getContext("2d");
          var side = Math.min(image.width, image.height);
          context.drawImage(image, (image.width - side) / 2, (image.height - side) / 2, side, side, 0, 0, 32, 32);
          canvas.toBlob(function (blob) {
            var scaled = new File([blob], file.name.replace(/\.[^.]*$/, "") + ".png", { type: "image/png" });
            var transfer = new DataTransfer();
            transfer.items.add(scaled);
            input.files = transfer.files;
            preview.src = canvas.toDataURL("image/png");
            preview.hidden = false;
          }, "image/png");
        };
        image.src = reader.result;
      };
      reader.readAsDataURL(file);
    });
  }

  // Copy buttons; "Copy & close" (data-close-to) then leaves for the page it names.
  document.querySelectorAll("button.copy").forEach(function (button) {
    button.addEventListener("click", function () {
      var element = document.getElementById(button.dataset.copy);
      var done = function () {
        button.textContent = "Copied";
        if (button.dataset.closeTo) { window.location.assign(button.dataset.closeTo); }
      };
      // A copy that did not happen never leaves the page: what is shown once would be lost.
      var failed = function () {
        var selection = window.getSelection();
        var range = document.createRange();
        range.selectNodeContents(element);
        selection.removeAllRanges();
        selection.addRange(range);
        var note = document.getElementById("copy-failed");
        if (note) { note.hidden = false; }
        button.textContent = "Select and copy";
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(element.textContent).then(done, failed);
      } else {
        failed();
      }
    });
  });

  // A form whose button asks first (data-confirm): revoking, deleting.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });
})();

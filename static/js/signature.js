// A drawn signature on a <canvas>, written as PNG data into a hidden input.
// Loaded only on the consent page; no inline script (the CSP forbids it).
(function () {
  "use strict";
  var canvas = document.getElementById("signature-pad");
  if (!canvas || !canvas.getContext) return;
  var input = document.getElementById(canvas.getAttribute("data-input") || "signature");
  var clear = document.getElementById("signature-clear");
  var ctx = canvas.getContext("2d");
  var drawing = false;
  var inked = false;
  var last = null;

  ctx.lineWidth = 3;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.strokeStyle = "#111";

  function point(event) {
    var rect = canvas.getBoundingClientRect();
    return {
      x: (event.clientX - rect.left) * (canvas.width / rect.width),
      y: (event.clientY - rect.top) * (canvas.height / rect.height)
    };
  }

  function save() {
    if (input) input.value = inked ? canvas.toDataURL("image/png") : "";
  }

  canvas.addEventListener("pointerdown", function (event) {
    event.preventDefault();
    drawing = true;
    last = point(event);
    if (canvas.setPointerCapture) canvas.setPointerCapture(event.pointerId);
    ctx.beginPath();
    ctx.arc(last.x, last.y, 1.5, 0, Math.PI * 2);
    ctx.fillStyle = "#111";
    ctx.fill();
    inked = true;
  });

  canvas.addEventListener("pointermove", function (event) {
    if (!drawing) return;
    event.preventDefault();
    var next = point(event);
    ctx.beginPath();
    ctx.moveTo(last.x, last.y);
    ctx.lineTo(next.x, next.y);
    ctx.stroke();
    last = next;
  });

  function stop() {
    if (!drawing) return;
    drawing = false;
    save();
  }
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  canvas.addEventListener("pointerleave", stop);

  if (clear) {
    clear.addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      inked = false;
      save();
    });
  }

  var form = canvas.closest("form");
  if (form) form.addEventListener("submit", save);
})();

// The demo page of `python -m paddle_mnist demo`: a drawing pad (Pointer Events), photo upload,
// the 28x28 model input and each model's class probabilities. The server does all preprocessing
// (paddle_mnist.apps.predict.preprocess_image) and runs the models; this file only draws.
// document.body.dataset.status is idle | waiting | busy and data-responses counts the answers
// shown, so that tests can wait for the page.
"use strict";

(function () {
  const DEBOUNCE_MS = 200;
  const LINE_WIDTH = 20;
  const pad = document.getElementById("pad");
  const ctx = pad.getContext("2d");
  const input28 = document.getElementById("input28").getContext("2d");
  const message = document.getElementById("message");
  const timing = document.getElementById("timing");
  const models = document.getElementById("models");
  let strokes = [];      // each stroke: [[x, y], ...] in canvas pixels
  let current = null;    // the stroke being drawn
  let photo = null;      // an uploaded image shown on the pad (HTMLImageElement) or null
  let timer = null;
  let seq = 0;           // the newest request; older answers are dropped
  let maxUpload = 5 * 1024 * 1024;

  function setStatus(s) { document.body.dataset.status = s; }

  function say(text, isError) {
    message.textContent = text;
    message.classList.toggle("error", Boolean(isError));
  }

  // ------------------------------------------------------------ the model panels
  function buildPanels(list) {
    models.textContent = "";
    for (const m of list) {
      const card = document.createElement("section");
      card.className = "model";
      card.id = "model-" + m.name;
      card.innerHTML = "<h2></h2><p class='acc'></p><div class='answer'><span class='digit' id='pred-" + m.name +
        "'>&ndash;</span> <small class='prob'></small></div><div class='bars'></div>";
      card.querySelector("h2").textContent = m.title;
      card.querySelector(".acc").textContent = m.test_acc ? "test accuracy " + (100 * m.test_acc).toFixed(2) + "%" : "";
      const bars = card.querySelector(".bars");
      for (let d = 0; d < 10; d++) {
        const row = document.createElement("div");
        row.className = "bar-row";
        row.innerHTML = "<span class='label'>" + d + "</span><div class='track'><div class='fill'></div></div>" +
          "<span class='value'></span>";
        bars.appendChild(row);
      }
      models.appendChild(card);
    }
  }

  function showAnswer(answer) {
    for (const m of answer.models) {
      const card = document.getElementById("model-" + m.name);
      if (!card) continue;
      card.querySelector(".digit").textContent = String(m.digit);
      card.querySelector(".prob").textContent = "p = " + m.probabilities[m.digit].toFixed(3);
      card.querySelectorAll(".bar-row").forEach(function (row, d) {
        const p = m.probabilities[d];
        row.querySelector(".fill").style.width = (100 * p).toFixed(1) + "%";
        row.querySelector(".value").textContent = (100 * p).toFixed(1) + "%";
        row.classList.toggle("top", d === m.digit);
      });
    }
    const img = input28.createImageData(28, 28);
    answer.input.forEach(function (v, i) {
      const g = Math.round(255 * v);
      img.data.set([g, g, g, 255], 4 * i);
    });
    input28.putImageData(img, 0, 0);
    timing.textContent = "server: " + answer.server_ms.toFixed(1) + " ms for preprocessing and the models";
  }

  function resetAnswer() {
    document.querySelectorAll(".model .digit").forEach(function (el) { el.innerHTML = "&ndash;"; });
    document.querySelectorAll(".model .prob, .bar-row .value").forEach(function (el) { el.textContent = ""; });
    document.querySelectorAll(".bar-row").forEach(function (row) {
      row.querySelector(".fill").style.width = "0";
      row.classList.remove("top");
    });
    input28.fillStyle = "#000";
    input28.fillRect(0, 0, 28, 28);
    timing.textContent = "";
  }

  // ------------------------------------------------------------ talking to the server
  async function send(blob, what) {
    const mine = ++seq;
    setStatus("busy");
    try {
      const resp = await fetch("/api/predict", {method: "POST", body: blob,
        headers: {"Content-Type": blob.type || "application/octet-stream"}});
      let answer = null;
      try { answer = await resp.json(); } catch (e) { answer = null; }
      if (mine !== seq) return;
      if (!resp.ok || !answer || answer.error) {
        resetAnswer();
        say((answer && answer.error) || ("the server answered HTTP " + resp.status), true);
      } else {
        showAnswer(answer);
        say(what, false);
      }
    } catch (e) {
      if (mine !== seq) return;
      resetAnswer();
      say("could not reach the server (" + e.message + "); is `python -m paddle_mnist demo` running?", true);
    }
    if (mine === seq) answered();
  }

  function answered() {  // an answer (or an error) is on the page
    document.body.dataset.responses = String(Number(document.body.dataset.responses) + 1);
    setStatus("idle");
  }

  function schedule() {
    clearTimeout(timer);
    if (!strokes.length && !photo) {
      seq++;
      resetAnswer();
      say("Draw a digit 0-9 in the box.", false);
      setStatus("idle");
      return;
    }
    setStatus("waiting");
    timer = setTimeout(function () {
      pad.toBlob(function (blob) { send(blob, "Drawing sent as PNG " + pad.width + "x" + pad.height + "."); },
        "image/png");
    }, DEBOUNCE_MS);
  }

  // ------------------------------------------------------------ drawing
  function redraw() {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, pad.width, pad.height);
    if (photo) {
      const s = Math.min(pad.width / photo.naturalWidth, pad.height / photo.naturalHeight);
      const w = photo.naturalWidth * s, h = photo.naturalHeight * s;
      ctx.drawImage(photo, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
    }
    ctx.strokeStyle = "#000";
    ctx.fillStyle = "#000";
    ctx.lineWidth = LINE_WIDTH;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    for (const s of strokes) {
      if (s.length === 1) {
        ctx.beginPath();
        ctx.arc(s[0][0], s[0][1], LINE_WIDTH / 2, 0, 2 * Math.PI);
        ctx.fill();
        continue;
      }
      ctx.beginPath();
      ctx.moveTo(s[0][0], s[0][1]);
      for (let i = 1; i < s.length; i++) ctx.lineTo(s[i][0], s[i][1]);
      ctx.stroke();
    }
  }

  function point(e) {
    const r = pad.getBoundingClientRect();
    return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
  }

  pad.addEventListener("pointerdown", function (e) {
    if (e.button !== 0 && e.pointerType === "mouse") return;
    e.preventDefault();
    if (photo) { photo = null; strokes = []; }  // drawing starts a new digit
    clearTimeout(timer);
    pad.setPointerCapture(e.pointerId);
    current = {id: e.pointerId, points: [point(e)]};
    strokes.push(current.points);
    setStatus("waiting");
    redraw();
  });
  pad.addEventListener("pointermove", function (e) {
    if (!current || e.pointerId !== current.id) return;
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    for (const c of (events.length ? events : [e])) current.points.push(point(c));
    redraw();
  });
  function endStroke(e) {
    if (!current || e.pointerId !== current.id) return;
    current = null;
    schedule();
  }
  pad.addEventListener("pointerup", endStroke);
  pad.addEventListener("pointercancel", endStroke);

  document.getElementById("undo").addEventListener("click", function () {
    if (strokes.length) strokes.pop(); else photo = null;
    redraw();
    schedule();
  });
  document.getElementById("clear").addEventListener("click", function () {
    strokes = [];
    photo = null;
    redraw();
    schedule();
  });

  // ------------------------------------------------------------ uploads
  document.getElementById("file").addEventListener("change", function (e) {
    const file = e.target.files[0];
    e.target.value = "";  // the same file can be chosen again
    if (!file) return;
    clearTimeout(timer);
    if (file.size > maxUpload) {
      seq++;
      resetAnswer();
      say(file.name + ": too large (" + (file.size / 1e6).toFixed(1) + " MB; the limit is " +
        Math.round(maxUpload / 1048576) + " MB)", true);
      answered();
      return;
    }
    strokes = [];
    photo = null;
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = function () { photo = img; redraw(); };
    img.onerror = function () { redraw(); };  // the server explains what is wrong with it
    img.src = url;
    send(file, "Uploaded " + file.name + " (sent as it is).");
  });

  // ------------------------------------------------------------ start
  redraw();
  fetch("/api/models").then(function (r) { return r.json(); }).then(function (info) {
    maxUpload = info.max_upload_bytes || maxUpload;
    buildPanels(info.models);
    resetAnswer();
    setStatus("idle");
  }).catch(function (e) { say("could not load the model list: " + e.message, true); });
})();

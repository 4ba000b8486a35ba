// pyLapse day player: plays a day's frames in place, steps, scrubs a timeline of the day (hours,
// night, gaps, brightness), jumps between days and keeps the URL pointing at the frame shown.
//
// Frames are drawn on a canvas from decoded Image objects, so a frame is either shown whole or
// not at all; playback waits for a frame that has not arrived rather than showing a blank. A
// prefetch queue keeps the frames ahead of the playhead loading (a few requests at a time,
// nearest first) and a sparse set across the whole day, so a scrub shows the nearest loaded
// frame at once and the exact one as soon as it arrives. No inline script or style: the
// Content-Security-Policy allows neither.
(function () {
  "use strict";

  // Started once per #player element: on page load, and again when htmx puts a player page
  // back from its history (the Back button after a boosted link), which runs no scripts.
  var started = new WeakSet();
  function boot() {
    var el = document.getElementById("player");
    if (el && !started.has(el)) { started.add(el); start(el); }
  }
  boot();
  document.addEventListener("htmx:historyRestore", boot);
  document.addEventListener("htmx:load", boot);

function start(root) {
  var $ = function (id) { return document.getElementById(id); };
  var canvas = $("player-canvas"), ctx = canvas.getContext("2d");
  var line = $("player-timeline"), lctx = line.getContext("2d");
  var note = $("player-note");
  var playButton = $("player-play"), fpsSelect = $("player-fps");

  var MAX_CACHE = 480; // decoded frames kept (a phone's memory, not the day's size, bounds it)
  var IN_FLIGHT = 6; // parallel image requests
  var SPARSE = 96; // frames spread over the day, loaded after the ones near the playhead

  var data = null; // the day's JSON (parallel arrays)
  var index = -1; // frame shown
  var playing = false;
  var fps = parseInt(root.dataset.fps, 10) || 10;
  var cache = new Map(); // frame id -> decoded Image
  var loading = new Map(); // frame id -> Image being fetched
  var shown = 0; // frames drawn since the page opened (tests and the bench read it)
  var drawTimes = []; // when the last second's frames were drawn
  var scrubbing = false;
  var wanted = -1; // the frame a scrub or step asked for while it was not loaded yet

  // -- helpers ------------------------------------------------------------------------------

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function localClock(i) {
    var d = new Date((data.t[i] + data.offset[i]) * 1000);
    return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
  }
  function offsetText(seconds) {
    var sign = seconds < 0 ? "-" : "+", a = Math.abs(seconds);
    return sign + pad(Math.floor(a / 3600)) + ":" + pad(Math.floor(a % 3600 / 60));
  }
  function bytesText(n) {
    if (n == null) return "";
    if (n < 1024) return n + " B";
    if (n < 1048576) return (n / 1024).toFixed(0) + " kB";
    return (n / 1048576).toFixed(1) + " MB";
  }
  function url(template, id) { return template.replace("{id}", String(id)); }
  // the frame nearest to UTC second t (binary search over the sorted times)
  function nearest(t) {
    var a = data.t, lo = 0, hi = a.length - 1;
    if (hi < 0) return -1;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (a[mid] < t) lo = mid + 1; else hi = mid;
    }
    if (lo > 0 && t - a[lo - 1] < a[lo] - t) return lo - 1;
    return lo;
  }
  function atClock(text) {
    // the first frame at or after a local wall clock "HH[:MM[:SS]]"
    var parts = text.split(":").map(function (x) { return parseInt(x, 10) || 0; });
    var want = parts[0] * 3600 + (parts[1] || 0) * 60 + (parts[2] || 0);
    for (var i = 0; i < data.t.length; i++) {
      var clock = ((data.t[i] + data.offset[i]) % 86400 + 86400) % 86400;
      if (clock >= want) return i;
    }
    return data.t.length - 1;
  }

  // -- loading ------------------------------------------------------------------------------

  function load(i) {
    var id = data.ids[i];
    if (cache.has(id) || loading.has(id)) return;
    var img = new Image();
    img.decoding = "async";
    img.dataset.index = String(i);
    loading.set(id, img);
    img.onload = function () {
      var done = function () {
        loading.delete(id);
        if (!data || data.ids[i] !== id) return; // another day was opened meanwhile
        cache.set(id, img);
        if (wanted === i || index < 0) { show(i); }
        else if (wanted < 0 && !playing && i === index) { draw(i); }
        pump();
      };
      (img.decode ? img.decode() : Promise.resolve()).then(done, done);
    };
    img.onerror = function () { loading.delete(id); pump(); };
    img.src = url(root.dataset.image, id);
  }

  // What to load next: the frames just ahead of the playhead (a few seconds of play), one
  // behind, then the sparse frames over the day.
  function queue() {
    var out = [], n = data.ids.length;
    if (!n) return out;
    var at = wanted >= 0 ? wanted : Math.max(0, index);
    var ahead = Math.max(24, fps * 4);
    for (var k = 0; k <= ahead && at + k < n; k++) out.push(at + k);
    for (k = 1; k <= 4 && at - k >= 0; k++) out.push(at - k);
    var step = Math.max(1, Math.floor(n / SPARSE));
    for (k = 0; k < n; k += step) out.push(k);
    return out;
  }

  function pump() {
    if (!data) return;
    var list = queue();
    for (var k = 0; k < list.length && loading.size < IN_FLIGHT; k++) load(list[k]);
    trim(list);
  }

  function trim(keep) {
    if (cache.size <= MAX_CACHE) return;
    var wantedIds = new Set(keep.map(function (i) { return data.ids[i]; }));
    var at = Math.max(0, index), byId = new Map();
    data.ids.forEach(function (id, i) { byId.set(id, i); });
    var drop = [];
    cache.forEach(function (_, id) { if (!wantedIds.has(id)) drop.push(id); });
    drop.sort(function (a, b) { return Math.abs(byId.get(b) - at) - Math.abs(byId.get(a) - at); });
    for (var k = 0; k < drop.length && cache.size > MAX_CACHE; k++) cache.delete(drop[k]);
  }

  // After a jump (scrub, deep link) the requests still running for the old place would hold
  // the browser's few connections ahead of the frame now wanted: drop them.
  function cancelFarFrom(i) {
    var reach = Math.max(24, fps * 4);
    loading.forEach(function (img, id) {
      var at = +img.dataset.index;
      if (at < i - 4 || at > i + reach) {
        img.onload = img.onerror = null;
        img.src = "";
        loading.delete(id);
      }
    });
  }

  // -- showing ------------------------------------------------------------------------------

  function draw(i) {
    var img = cache.get(data.ids[i]);
    if (!img) return false;
    if (canvas.width !== img.naturalWidth || canvas.height !== img.naturalHeight) {
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
    }
    ctx.drawImage(img, 0, 0);
    canvas.dataset.frameId = String(data.ids[i]);
    root.dataset.drawn = String(i); // the frame on screen (while one loads, a neighbour)
    shown += 1;
    root.dataset.shown = String(shown);
    var now = performance.now();
    drawTimes.push(now);
    while (drawTimes.length && drawTimes[0] < now - 1000) drawTimes.shift();
    return true;
  }

  // Show frame i: at once if it is loaded, else the nearest loaded frame now and frame i when
  // it arrives.
  function show(i) {
    if (!data || i < 0 || i >= data.ids.length) return;
    index = i;
    if (draw(i)) { wanted = -1; note.hidden = true; }
    else {
      wanted = i;
      cancelFarFrom(i);
      for (var k = 1; k < 200; k++) {
        if (i - k >= 0 && draw(i - k)) break;
        if (i + k < data.ids.length && draw(i + k)) break;
      }
      load(i);
    }
    describe(i);
    drawTimeline();
    pump();
  }

  function describe(i) {
    root.dataset.index = String(i);
    $("player-time").textContent = data.day + " " + localClock(i) + " " +
      offsetText(data.offset[i]) + " (" + data.zone + ")";
    $("player-index").textContent = (i + 1).toLocaleString() + " of " +
      data.count.toLocaleString();
    var size = [];
    if (data.width[i] && data.height[i]) size.push(data.width[i] + "×" + data.height[i]);
    if (data.bytes[i] != null) size.push(bytesText(data.bytes[i]));
    if (data.luma[i] != null) size.push("brightness " + Math.round(data.luma[i]));
    // a scan reads names, not files: frames only scanned have no size until a verifying scan
    $("player-size").textContent = size.join(" · ") || "not in the index (scanned frame)";
    var flag = data.flags[String(i)];
    $("player-flag-row").hidden = !flag;
    $("player-flag").textContent = flag ? flag.status + (flag.reason ? ": " + flag.reason : "") : "";
    $("player-open").href = url(root.dataset.full, data.ids[i]);
    canvas.setAttribute("aria-label", "Frame at " + localClock(i));
    line.setAttribute("aria-valuenow", String(i + 1));
    line.setAttribute("aria-valuetext", localClock(i));
    remember();
  }

  // The URL names the frame shown (day and local clock), so a reload or a shared link opens it;
  // rewritten at most twice a second while playing.
  var remembered = 0;
  function remember(force) {
    var now = performance.now();
    if (!force && playing && now - remembered < 500) return;
    remembered = now;
    var q = "?day=" + data.day + "&t=" + localClock(index) + "&fps=" + fps;
    history.replaceState(null, "", root.dataset.page + q);
  }

  // -- timeline -----------------------------------------------------------------------------

  // The day's picture (night, frames, gaps, brightness, hours) is drawn once per day and size
  // into an offscreen canvas; each frame shown only copies it and draws the playhead.
  var backdrop = null, backdropKey = "";
  function drawTimeline() {
    if (!data) return;
    var ratio = window.devicePixelRatio || 1;
    var w = Math.max(1, Math.round(line.clientWidth * ratio));
    var h = Math.max(1, Math.round(line.clientHeight * ratio));
    if (line.width !== w || line.height !== h) { line.width = w; line.height = h; }
    var key = data.day + " " + w + "x" + h;
    if (key !== backdropKey) {
      backdrop = document.createElement("canvas");
      backdrop.width = w; backdrop.height = h;
      paintDay(backdrop.getContext("2d"), w, h, ratio);
      backdropKey = key;
    }
    lctx.clearRect(0, 0, w, h);
    lctx.drawImage(backdrop, 0, 0);
    if (index >= 0) {
      lctx.fillStyle = "#ffffff";
      lctx.fillRect((data.t[index] - data.start) / (data.end - data.start) * w - ratio, 0, 2 * ratio, h);
    }
  }

  function paintDay(lctx, w, h, ratio) {
    var span = data.end - data.start;
    var x = function (t) { return (t - data.start) / span * w; };
    lctx.fillStyle = "#1b2430";
    lctx.fillRect(0, 0, w, h);
    data.twilight.forEach(function (s) { lctx.fillStyle = "#141a24"; lctx.fillRect(x(s[0]), 0, x(s[1]) - x(s[0]), h); });
    data.night.forEach(function (s) { lctx.fillStyle = "#0b0f16"; lctx.fillRect(x(s[0]), 0, x(s[1]) - x(s[0]), h); });
    var bar = h * 0.22, top = h - bar; // frames (blue) and gaps (red) along the bottom
    lctx.fillStyle = "#2f7fd0";
    var lastX = -2;
    for (var i = 0; i < data.t.length; i++) {
      var px = Math.floor(x(data.t[i]));
      if (px !== lastX) { lctx.fillRect(px, top, Math.max(1, ratio), bar); lastX = px; }
    }
    lctx.fillStyle = "#d9534f";
    data.gaps.forEach(function (g) { lctx.fillRect(x(g[0]), top, Math.max(ratio, x(g[1]) - x(g[0])), bar); });
    // brightness: the mean luma per pixel column, 0..255 over the space above the bar
    lctx.strokeStyle = "#e8c547";
    lctx.lineWidth = ratio;
    lctx.beginPath();
    var col = -1, sum = 0, n = 0, started = false, curve = top - 4 * ratio;
    var flush = function () {
      if (!n) return;
      var y = 2 * ratio + (1 - sum / n / 255) * (curve - 2 * ratio);
      if (started) lctx.lineTo(col, y); else { lctx.moveTo(col, y); started = true; }
    };
    for (i = 0; i < data.t.length; i++) {
      if (data.luma[i] == null) continue;
      var c = Math.floor(x(data.t[i]));
      if (c !== col) { flush(); col = c; sum = 0; n = 0; }
      sum += data.luma[i]; n += 1;
    }
    flush();
    lctx.stroke();
    lctx.fillStyle = "#f0ad4e"; // flagged times
    Object.keys(data.flags).forEach(function (k) { lctx.fillRect(x(data.t[+k]), 0, Math.max(1, ratio), 5 * ratio); });
    lctx.fillStyle = "#8a98a8"; // hours
    lctx.font = Math.round(10 * ratio) + "px sans-serif";
    var every = w / ratio < 500 ? 6 : (w / ratio < 900 ? 3 : 1);
    data.hours.forEach(function (hr) {
      var hx = x(hr[0]);
      lctx.fillRect(hx, 0, 1, hr[1] % every === 0 ? 8 * ratio : 4 * ratio);
      if (hr[1] % every === 0) lctx.fillText(String(hr[1]), hx + 2 * ratio, 17 * ratio);
    });
  }

  function scrubTo(event) {
    var box = line.getBoundingClientRect();
    var f = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
    show(nearest(data.start + f * (data.end - data.start)));
  }
  line.addEventListener("pointerdown", function (event) {
    if (!data || !data.count) return;
    scrubbing = true;
    line.setPointerCapture(event.pointerId);
    scrubTo(event);
    event.preventDefault();
  });
  line.addEventListener("pointermove", function (event) { if (scrubbing) scrubTo(event); });
  var endScrub = function () { if (scrubbing) { scrubbing = false; remember(true); } };
  line.addEventListener("pointerup", endScrub);
  line.addEventListener("pointercancel", endScrub);

  // -- playing ------------------------------------------------------------------------------

  var due = 0;
  function tick(now) {
    if (!root.isConnected) { playing = false; return; } // left by a boosted navigation
    if (playing && !scrubbing) {
      if (now >= due) {
        var next = index + 1;
        if (next >= data.ids.length) {
          // the day is over: on into the next day with frames, or stop at the archive's end
          if (data.next_day && !opening) open(data.next_day, "", false);
          else if (!data.next_day) setPlaying(false);
        }
        else if (cache.has(data.ids[next])) {
          show(next);
          // stay on the beat; after a stall start counting again instead of rushing to catch up
          due = Math.max(due + 1000 / fps, now - 1000 / fps);
        } else { wanted = next; pump(); }
      }
    }
    rate();
    if (playing) requestAnimationFrame(tick);
  }
  function rate() {
    var now = performance.now();
    while (drawTimes.length && drawTimes[0] < now - 1000) drawTimes.shift();
    $("player-rate").textContent = playing ? drawTimes.length + " frames/s" : "paused";
  }
  function setPlaying(on) {
    if (!data || !data.count) return;
    if (on && index >= data.ids.length - 1) show(0); // play again from the start of the day
    playing = on;
    root.dataset.state = on ? "playing" : "paused";
    playButton.textContent = on ? "❚❚ Pause" : "▶ Play";
    if (on) { due = performance.now(); requestAnimationFrame(tick); }
    else { rate(); remember(true); }
  }

  function step(by) {
    if (!data || !data.count) return;
    setPlaying(false);
    show(Math.min(data.ids.length - 1, Math.max(0, index + by)));
  }

  // -- days ---------------------------------------------------------------------------------

  var opening = false, queuedDays = 0; // day jumps pressed while a day is still loading

  function open(day, clock, fromEnd) {
    opening = true;
    root.dataset.state = "loading";
    note.hidden = false;
    note.textContent = "Loading " + day + "…";
    return fetch(root.dataset.json + "?day=" + encodeURIComponent(day), { credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) throw new Error(r.status + " " + r.statusText);
        return r.json();
      })
      .then(function (day) {
        data = day;
        cache.clear(); loading.clear();
        index = -1; wanted = -1;
        root.dataset.day = day.day;
        $("player-day").textContent = day.day;
        document.title = document.title.replace(/\d{4}-\d{2}-\d{2}/, day.day);
        line.setAttribute("aria-valuemax", String(day.count));
        $("player-prev-day").disabled = !day.previous_day;
        $("player-next-day").disabled = !day.next_day;
        if (!day.count) {
          note.textContent = "No frames on " + day.day + ".";
          root.dataset.state = "empty";
          drawTimeline();
          return;
        }
        root.dataset.state = playing ? "playing" : "paused";
        show(clock ? atClock(clock) : (fromEnd ? day.count - 1 : 0));
      })
      .catch(function (err) {
        note.hidden = false;
        note.textContent = "Could not load the day: " + err.message;
        root.dataset.state = "error";
      })
      .then(function () {
        opening = false;
        if (queuedDays) { // "[ [" pressed quickly goes back two days, not one
          var which = queuedDays > 0 ? 1 : -1;
          queuedDays -= which;
          otherDay(which);
        }
      });
  }
  function otherDay(which) {
    if (opening) { queuedDays += which; return; }
    if (!data) return;
    var day = which < 0 ? data.previous_day : data.next_day;
    if (day) open(day, "", false); else queuedDays = 0;
  }

  // -- controls -----------------------------------------------------------------------------

  playButton.addEventListener("click", function () { setPlaying(!playing); });
  $("player-back").addEventListener("click", function () { step(-1); });
  $("player-fwd").addEventListener("click", function () { step(1); });
  $("player-prev-day").addEventListener("click", function () { otherDay(-1); });
  $("player-next-day").addEventListener("click", function () { otherDay(1); });
  fpsSelect.addEventListener("change", function () {
    fps = Math.min(60, Math.max(1, parseInt(fpsSelect.value, 10) || 10));
    root.dataset.fps = String(fps);
    pump();
    if (data && index >= 0) remember(true);
  });
  function fullScreen() {
    if (document.fullscreenElement) { document.exitFullscreen(); return; }
    if (root.requestFullscreen) {
      root.requestFullscreen().catch(function () { root.classList.toggle("fill"); });
    } else {
      root.classList.toggle("fill"); // phones without the Fullscreen API: fill the viewport
    }
  }
  $("player-full").addEventListener("click", fullScreen);
  document.addEventListener("fullscreenchange", function () {
    root.classList.toggle("fill", document.fullscreenElement === root);
    drawTimeline();
  });
  document.addEventListener("keydown", function (event) {
    if (!root.isConnected || event.altKey || event.ctrlKey || event.metaKey) return;
    var target = event.target;
    if (target.closest && target.closest("input, select, textarea")) return;
    var key = event.key;
    if (key === "ArrowRight") step(event.shiftKey ? 10 : 1);
    else if (key === "ArrowLeft") step(event.shiftKey ? -10 : -1);
    else if (key === " ") setPlaying(!playing);
    else if (key === "[") otherDay(-1);
    else if (key === "]") otherDay(1);
    else if (key === "Home") step(-data.count);
    else if (key === "End") step(data.count);
    else if (key === "f") fullScreen();
    else if (key === "Escape" && root.classList.contains("fill") && !document.fullscreenElement) root.classList.remove("fill");
    else return;
    event.preventDefault(); // space would scroll the page, and press a focused button too
  });
  window.addEventListener("resize", drawTimeline);

  fpsSelect.value = String(fps);
  var url0 = new URLSearchParams(location.search); // a restored page: the URL's frame
  open(url0.get("day") || root.dataset.day, url0.get("t") || root.dataset.t, false);
}
})();

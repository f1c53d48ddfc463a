// Berth's dashboard: polls /dashboard/data (a uWSGI stats document, with Berth's optional
// "berth" key) every second and redraws. Data is only ever written with textContent, never
// parsed as HTML: tracebacks and URIs come from clients and apps.
'use strict';
(function () {
  var REFRESH_MS = 1000;
  var HISTORY = 120;
  var series = { rps: [], latency: [], queue: [] };
  var previous = null;
  var shownErrors = '';

  function $(id) { return document.getElementById(id); }

  function cell(row, text, cls) {
    var td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    row.appendChild(td);
  }

  function bytes(n) {
    if (!(n > 0)) return '-';
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var u = 0;
    while (n >= 1024 && u < units.length - 1) { n /= 1024; u++; }
    return (u === 0 || n >= 10 ? Math.round(n) : n.toFixed(1)) + ' ' + units[u];
  }

  function amount(n) { return n === null ? '-' : n < 1 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : String(Math.round(n)); }

  function push(list, value) {
    list.push(value);
    if (list.length > HISTORY) list.shift();
  }

  // Requests per second of each worker since the last read; null after a respawn.
  function rates(doc, at) {
    return doc.workers.map(function (w) {
      if (previous === null) return null;
      var old = previous.doc.workers.filter(function (o) { return o.id === w.id; })[0];
      var seconds = (at - previous.at) / 1000;
      if (!old || old.pid !== w.pid || w.requests < old.requests || seconds <= 0) return null;
      return (w.requests - old.requests) / seconds;
    });
  }

  // The latency to plot: Berth's histogram (p95 of the requests since the last read) when
  // there is one, else uWSGI's average response time weighted by requests.
  function latency(doc) {
    var buckets = doc.berth && doc.berth.latency_ms_buckets;
    var before = previous && previous.doc.berth && previous.doc.berth.latency_ms_buckets;
    if (buckets && before) {
      var bounds = Object.keys(buckets).sort(function (a, b) { return Number(a) - Number(b); });
      var delta = bounds.map(function (b) { return (buckets[b] || 0) - (before[b] || 0); });
      var total = delta[delta.length - 1];
      if (total > 0) {
        for (var i = 0; i < bounds.length; i++) if (delta[i] >= total * 0.95) return { value: Number(bounds[i]), label: 'p95 ≤' };
      }
    }
    var requests = 0;
    var weighted = 0;
    doc.workers.forEach(function (w) { requests += w.requests || 0; weighted += (w.avg_rt || 0) * (w.requests || 0); });
    return { value: requests > 0 ? weighted / requests / 1000 : 0, label: 'avg' };
  }

  function drawChart(canvas, values, color, floor) {
    var ratio = window.devicePixelRatio || 1;
    var w = canvas.clientWidth;
    var h = canvas.clientHeight;
    canvas.width = w * ratio;
    canvas.height = h * ratio;
    var g = canvas.getContext('2d');
    g.scale(ratio, ratio);
    g.clearRect(0, 0, w, h);
    var max = Math.max.apply(null, values.concat([floor]));
    g.fillStyle = getComputedStyle(document.body).color;
    g.font = '10px system-ui, sans-serif';
    g.fillText(amount(max), 2, 10);
    g.fillText('0', 2, h - 2);
    g.strokeStyle = color;
    g.lineWidth = 1.5;
    g.beginPath();
    // Newest on the right; a short history is spread over at least 30 steps, not squeezed.
    var step = w / (Math.min(HISTORY, Math.max(values.length, 30)) - 1);
    values.forEach(function (v, i) {
      var x = w - (values.length - 1 - i) * step;
      var y = h - 4 - (v / max) * (h - 16);
      if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
    });
    g.stroke();
  }

  function renderWorkers(doc, perWorker) {
    var body = document.createElement('tbody');
    doc.workers.forEach(function (w, i) {
      var row = document.createElement('tr');
      row.dataset.pid = String(w.pid);
      cell(row, String(w.id));
      cell(row, String(w.pid));
      cell(row, String(w.status), w.status === 'busy' ? 'busy' : '');
      cell(row, String(w.requests));
      cell(row, amount(perWorker[i]));
      cell(row, amount((w.avg_rt || 0) / 1000));
      cell(row, bytes(w.rss));
      cell(row, String(w.respawn_count));
      cell(row, String(w.harakiri_count));
      cell(row, String(w.exceptions));
      cell(row, bytes(w.tx));
      body.appendChild(row);
    });
    var table = $('workers');
    table.replaceChild(body, table.tBodies[0]);
  }

  function renderErrors(list) {
    // Redrawn only when the list changes, so a traceback someone opened stays open.
    var key = JSON.stringify(list || []);
    if (key === shownErrors) return;
    shownErrors = key;
    var box = $('errors');
    var items = document.createDocumentFragment();
    if (!list || list.length === 0) {
      var none = document.createElement('p');
      none.className = 'quiet';
      none.textContent = 'none';
      items.appendChild(none);
    }
    (list || []).slice().reverse().forEach(function (e) {
      var item = document.createElement('details');
      var title = document.createElement('summary');
      title.textContent = new Date(e.time * 1000).toLocaleTimeString() + '  worker ' + e.worker + '  ' + e.method + ' ' + e.uri + ' → ' + e.status;
      var trace = document.createElement('pre');
      trace.textContent = e.traceback;
      item.appendChild(title);
      item.appendChild(trace);
      items.appendChild(item);
    });
    box.replaceChildren(items);
  }

  function renderConfig(config) {
    if (!config) return;
    var body = document.createElement('tbody');
    Object.keys(config).sort().forEach(function (key) {
      var row = document.createElement('tr');
      var value = config[key];
      cell(row, key);
      cell(row, typeof value === 'string' ? value : JSON.stringify(value));
      body.appendChild(row);
    });
    var table = $('config');
    table.replaceChild(body, table.tBodies[0]);
  }

  function update(doc, at) {
    var perWorker = rates(doc, at);
    var known = perWorker.filter(function (r) { return r !== null; });
    var rps = known.length ? known.reduce(function (a, b) { return a + b; }, 0) : null;
    var lat = latency(doc);
    var b = doc.berth || {};
    var facts = ['version ' + doc.version, 'master pid ' + doc.pid, doc.workers.length + ' workers'];
    if (b.generation !== undefined) facts.push('generation ' + b.generation);
    if (b.reloads !== undefined) facts.push('reloads ' + b.reloads);
    if (b.python) facts.push('python ' + (typeof b.python === 'string' ? b.python : b.python.version));
    (doc.sockets || []).forEach(function (s) { facts.push(s.name + ' (' + s.proto + ')'); });
    $('summary').textContent = facts.join(' · ');
    if (rps !== null) push(series.rps, rps);
    push(series.latency, lat.value);
    push(series.queue, doc.listen_queue || 0);
    $('rps-now').textContent = amount(rps);
    $('latency-now').textContent = lat.label + ' ' + amount(lat.value);
    $('queue-now').textContent = String(doc.listen_queue || 0) + (doc.listen_queue_errors ? ' (' + doc.listen_queue_errors + ' overflowed)' : '');
    drawChart($('rps-chart'), series.rps, '#2266aa', 1);
    drawChart($('latency-chart'), series.latency, '#aa6622', 0.01);
    drawChart($('queue-chart'), series.queue, '#66aa22', 1);
    renderWorkers(doc, perWorker);
    renderErrors(b.recent_errors);
    renderConfig(b.config);
    previous = { doc: doc, at: at };
  }

  function refresh() {
    fetch('/dashboard/data', { cache: 'no-store' })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(function (doc) {
        update(doc, performance.now());
        $('status').textContent = '';
      })
      .catch(function (err) { $('status').textContent = 'cannot read the stats: ' + err.message + ' (retrying)'; })
      .then(function () { setTimeout(refresh, REFRESH_MS); });
  }

  refresh();
})();

/**
 * The status page: one screen, phone-first. Static HTML, style and script (no inline script: the
 * page is served with a strict Content-Security-Policy); everything shown comes from /api/events
 * (Server-Sent Events read with fetch, so the bearer token can go in a header). The token for the
 * controls arrives in the URL fragment (#token=…, never sent to the server), is kept in
 * sessionStorage and removed from the address bar.
 * The script avoids template literals: it lives inside a TypeScript template string.
 */

export const PAGE_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ocpp-station</title>
<link rel="stylesheet" href="/assets/uplot.css">
<link rel="stylesheet" href="/assets/page.css">
</head>
<body>
<header>
  <div class="title"><strong id="identity">ocpp-station</strong> <span id="model" class="dim"></span></div>
  <div class="pills">
    <span id="link" class="pill off">connecting…</span>
    <span id="boot" class="pill dim">boot: –</span>
    <span id="outbox" class="pill dim">outbox: –</span>
  </div>
</header>
<div id="banner" class="banner" hidden></div>
<div id="station-faults" class="banner bad" hidden></div>
<main>
  <section id="evses" class="cards"></section>
  <section class="panel">
    <h2>Power and offered current, last hour</h2>
    <div id="chart" data-points="0"></div>
  </section>
  <section class="panel">
    <h2>OCPP frames <span class="dim" id="frame-count"></span></h2>
    <div class="frames-wrap"><table id="frames"><thead><tr><th>time</th><th></th><th>type</th><th>action</th><th>note</th></tr></thead><tbody></tbody></table></div>
  </section>
</main>
<footer id="versions" class="dim"></footer>
<script src="/assets/uplot.js"></script>
<script src="/assets/page.js"></script>
</body>
</html>
`;

export const PAGE_CSS = String.raw`
:root { --bg:#f4f5f7; --card:#fff; --ink:#1d2330; --dim:#6b7280; --ok:#0a7f3f; --warn:#b45309; --bad:#b91c1c; --acc:#1f5fbf; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background:var(--bg); color:var(--ink); }
header { display:flex; flex-wrap:wrap; gap:.5rem; justify-content:space-between; align-items:center; padding:.6rem .9rem; background:#1d2330; color:#fff; }
header .dim { color:#b8c0cc; }
.pills { display:flex; gap:.4rem; flex-wrap:wrap; }
.pill { border-radius:999px; padding:.15rem .6rem; font-size:.85rem; background:#394152; color:#fff; }
.pill.on { background:var(--ok); } .pill.off { background:var(--bad); } .pill.warn { background:var(--warn); }
.dim { color:var(--dim); }
.banner { margin:.6rem .9rem 0; padding:.5rem .8rem; border-radius:.5rem; background:#fff4e5; border:1px solid #f5c27a; }
.banner.bad { background:#fde8e8; border-color:#f3a5a5; }
main { padding:.6rem .9rem; display:grid; gap:.8rem; }
main > *, .cards > * { min-width:0; }
#chart { overflow:hidden; }
.cards { display:grid; gap:.8rem; grid-template-columns:repeat(auto-fill, minmax(270px, 1fr)); }
.card, .panel { background:var(--card); border-radius:.7rem; padding:.8rem; box-shadow:0 1px 3px rgba(0,0,0,.08); }
.card h3 { margin:0; font-size:1rem; display:flex; justify-content:space-between; }
.state { font-size:1.5rem; font-weight:700; margin:.2rem 0; }
.state.Available { color:var(--ok); } .state.Charging { color:var(--acc); } .state.Faulted, .state.Unavailable { color:var(--bad); }
.state.Preparing, .state.SuspendedEV, .state.SuspendedEVSE, .state.Finishing, .state.Reserved { color:var(--warn); }
.power { font-size:2rem; font-weight:700; font-variant-numeric:tabular-nums; }
dl { display:grid; grid-template-columns:auto 1fr; gap:.1rem .7rem; margin:.4rem 0 0; font-size:.9rem; }
dt { color:var(--dim); } dd { margin:0; font-variant-numeric:tabular-nums; overflow-wrap:anywhere; }
.faults { color:var(--bad); font-weight:600; margin-top:.3rem; }
.controls { display:flex; flex-wrap:wrap; gap:.35rem; margin-top:.6rem; border-top:1px solid #e5e7eb; padding-top:.6rem; }
button, select, input { font:inherit; padding:.35rem .6rem; border-radius:.4rem; border:1px solid #c7cbd3; background:#fff; }
button { background:var(--acc); color:#fff; border-color:var(--acc); cursor:pointer; }
button.secondary { background:#fff; color:var(--acc); }
input.token { width:8.5rem; }
h2 { font-size:1rem; margin:0 0 .5rem; }
#chart { min-height:220px; }
.frames-wrap { max-height:22rem; overflow:auto; }
table { border-collapse:collapse; width:100%; font-size:.85rem; }
th, td { text-align:left; padding:.15rem .4rem; border-bottom:1px solid #eef0f3; white-space:nowrap; }
td.note { white-space:normal; }
.out { color:var(--acc); } .in { color:var(--ok); } .err { color:var(--bad); }
footer { padding:.3rem .9rem 1rem; font-size:.8rem; }
`;

export const PAGE_JS = String.raw`
(function () {
  'use strict';
  var HOUR = 3600 * 1000;
  var token = null;
  var m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    token = decodeURIComponent(m[1]);
    try { sessionStorage.setItem('ocpp-station-token', token); } catch (e) {}
    history.replaceState(null, '', location.pathname + location.search);
  } else {
    try { token = sessionStorage.getItem('ocpp-station-token'); } catch (e) {}
  }
  var headers = function () { return token ? { authorization: 'Bearer ' + token } : {}; };
  var $ = function (id) { return document.getElementById(id); };
  var el = function (tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  };
  var status = null;
  /** Server clock minus this browser's clock, so the retry countdown needs no push every second. */
  var skew = 0;
  var frames = [];
  var samples = [];
  var cards = {};
  var chart = null;

  function fmt(n, digits, unit) { return n === null || n === undefined ? '–' : Number(n).toFixed(digits) + (unit ? ' ' + unit : ''); }
  function ago(iso) {
    if (!iso) return '–';
    var s = Math.round((Date.now() - Date.parse(iso)) / 1000);
    return s < 60 ? s + ' s ago' : s < 3600 ? Math.round(s / 60) + ' min ago' : Math.round(s / 3600) + ' h ago';
  }

  function control(body) {
    return fetch('/api/sim', { method: 'POST', headers: Object.assign({ 'content-type': 'application/json' }, headers()), body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (j) { if (!j.ok) alert(j.error || ('HTTP ' + r.status)); }); })
      .catch(function (e) { alert(String(e)); });
  }

  function makeCard(id) {
    var c = el('article', 'card');
    c.dataset.evse = String(id);
    var h = el('h3'); h.appendChild(el('span', null, 'EVSE ' + id)); var conn = el('span', 'dim'); h.appendChild(conn); c.appendChild(h);
    var state = el('div', 'state'); state.dataset.field = 'status'; c.appendChild(state);
    var power = el('div', 'power'); power.dataset.field = 'power'; c.appendChild(power);
    var dl = el('dl'); c.appendChild(dl);
    var fields = {};
    ['offered', 'drawn', 'energy', 'pilot', 'cable', 'contactor', 'lock', 'session', 'transaction', 'token'].forEach(function (k) {
      dl.appendChild(el('dt', null, k));
      var dd = el('dd'); dd.dataset.field = k; dl.appendChild(dd); fields[k] = dd;
    });
    var faults = el('div', 'faults'); faults.dataset.field = 'faults'; c.appendChild(faults);
    var controls = el('div', 'controls'); controls.hidden = true; c.appendChild(controls);
    var btn = function (label, body, cls) {
      var b = el('button', cls || null, label); b.type = 'button'; b.dataset.action = label;
      b.addEventListener('click', function () { control(typeof body === 'function' ? body() : body); });
      controls.appendChild(b); return b;
    };
    btn('plug', { cmd: 'plug', evse: id });
    var tok = el('input', 'token'); tok.value = '04A1B2C3D4E5F6'; tok.setAttribute('aria-label', 'card id'); tok.dataset.field = 'card';
    btn('tap card', function () { return { cmd: 'tap', idToken: tok.value || '04A1B2C3D4E5F6' }; });
    controls.insertBefore(tok, controls.lastChild);
    btn('EV ready', { cmd: 'ev-ready', evse: id }, 'secondary');
    btn('EV pause', { cmd: 'ev-pause', evse: id }, 'secondary');
    btn('unplug', { cmd: 'unplug', evse: id });
    var kind = el('select'); kind.dataset.field = 'fault-kind';
    ['welded', 'lock', 'meter-silent', 'pilot-e', 'pilot-f', 'rcd', 'reader'].forEach(function (k) { var o = el('option', null, k); o.value = k; kind.appendChild(o); });
    controls.appendChild(kind);
    btn('inject fault', function () { return { cmd: 'fault', evse: id, kind: kind.value }; }, 'secondary');
    btn('clear faults', { cmd: 'clear-fault', evse: id }, 'secondary');
    $('evses').appendChild(c);
    return { root: c, conn: conn, state: state, power: power, fields: fields, faults: faults, controls: controls };
  }

  function renderStatus() {
    var s = status; if (!s) return;
    document.title = s.station.identity + ' · ocpp-station';
    $('identity').textContent = s.station.identity;
    $('model').textContent = s.station.vendor + ' ' + s.station.model + ' · ' + s.station.board + (s.ocpp.devCsms ? ' · dev CSMS' : '');
    var link = $('link');
    link.textContent = s.ocpp.connected ? 'online ' + (s.ocpp.protocol || '') : 'offline';
    link.className = 'pill ' + (s.ocpp.connected ? 'on' : 'off');
    var boot = $('boot');
    boot.textContent = 'boot: ' + (s.ocpp.boot ? s.ocpp.boot.status : '–');
    boot.className = 'pill ' + (!s.ocpp.boot ? 'dim' : s.ocpp.boot.status === 'Accepted' ? 'on' : 'warn');
    var ob = $('outbox');
    ob.textContent = 'outbox: ' + s.outbox.depth + (s.outbox.deadLetters ? ' · dead ' + s.outbox.deadLetters : '');
    ob.className = 'pill ' + (s.outbox.deadLetters ? 'off' : s.outbox.depth ? 'warn' : 'dim');
    var banner = $('banner');
    if (!s.ocpp.connected) {
      var why = s.ocpp.lastError ? s.ocpp.lastError.message : 'not connected yet';
      var next = s.ocpp.nextRetryAt ? ' Next try in ' + Math.max(0, Math.round((Date.parse(s.ocpp.nextRetryAt) - (Date.now() + skew)) / 1000)) + ' s.' : '';
      banner.textContent = 'Not connected to ' + s.ocpp.csmsUrl + ': ' + why + '.' + next + ' Charging goes on offline; transaction messages wait in the outbox.';
      banner.hidden = false;
    } else banner.hidden = true;
    var sf = $('station-faults');
    sf.hidden = !s.station.faults.length;
    sf.textContent = s.station.faults.map(function (f) { return 'station fault: ' + f.kind + (f.detail ? ' (' + f.detail + ')' : ''); }).join(' · ');
    s.evses.forEach(function (e) {
      var c = cards[e.id] || (cards[e.id] = makeCard(e.id));
      c.conn.textContent = e.connectorType + ' · ' + e.phases + '-phase · max ' + e.maxCurrentA + ' A';
      c.state.textContent = e.status + (e.errorCode !== 'NoError' ? ' · ' + e.errorCode : '');
      c.state.className = 'state ' + e.status;
      c.power.textContent = e.powerW === null ? '– kW' : (e.powerW / 1000).toFixed(2) + ' kW';
      var f = c.fields;
      f.offered.textContent = fmt(e.currentOfferedA, 0, 'A');
      f.drawn.textContent = e.currentA ? [e.currentA.L1, e.currentA.L2, e.currentA.L3].filter(function (x) { return x !== null; }).map(function (x) { return x.toFixed(1); }).join(' / ') + ' A' : '–';
      f.energy.textContent = (e.session && e.session.energyWh !== null ? fmt(e.session.energyWh / 1000, 2, 'kWh') + ' session · ' : '') + fmt(e.energyWh === null ? null : e.energyWh / 1000, 1, 'kWh') + ' total';
      f.pilot.textContent = e.pilot;
      f.cable.textContent = e.cableRatingA === null ? '–' : e.cableRatingA + ' A';
      f.contactor.textContent = (e.contactor.closed ? 'closed' : 'open') + (e.contactor.feedback === null ? '' : e.contactor.feedback === e.contactor.closed ? '' : ' (feedback disagrees!)');
      f.lock.textContent = e.lock ? (e.lock.locked ? 'locked' : 'unlocked') : 'none';
      f.session.textContent = e.session ? e.session.chargingState + ' since ' + new Date(e.session.startedAt).toLocaleTimeString() : '–';
      f.transaction.textContent = e.transactionId || '–';
      f.token.textContent = e.session && e.session.idToken ? e.session.idToken : '–';
      c.faults.textContent = e.faults.map(function (x) { return x.kind + (x.severity === 'high' ? ' (high)' : ''); }).join(', ');
      c.controls.hidden = !(s.controls.sim && s.controls.enabled && token);
    });
    $('versions').textContent = 'ocpp-station ' + s.versions.daemon + ' · Node ' + s.versions.node + ' · OCPP ' + (s.versions.ocpp || s.ocpp.configuredVersion) + ' · up ' + Math.round(s.uptimeS / 60) + ' min' + (s.controls.sim && !s.controls.enabled ? ' · simulated board, read-only (http.control off)' : '') + (s.controls.sim && s.controls.enabled && !token ? ' · controls need the token: open the URL the daemon printed' : '');
  }

  function renderFrames() {
    var tb = document.querySelector('#frames tbody');
    var rows = document.createDocumentFragment();
    for (var i = frames.length - 1; i >= 0; i--) {
      var f = frames[i];
      var tr = el('tr');
      tr.appendChild(el('td', 'dim', new Date(f.t).toLocaleTimeString()));
      tr.appendChild(el('td', f.dir, f.dir === 'out' ? '→ CSMS' : '← CSMS'));
      tr.appendChild(el('td', f.type === 'error' ? 'err' : null, f.type));
      tr.appendChild(el('td', null, f.action || '?'));
      tr.appendChild(el('td', 'note', f.note || ''));
      rows.appendChild(tr);
    }
    tb.replaceChildren(rows);
    $('frame-count').textContent = '(' + frames.length + ', newest first)';
  }

  function chartData() {
    var ids = status ? status.evses.map(function (e) { return e.id; }) : [];
    var byT = new Map();
    samples.forEach(function (s) {
      var row = byT.get(s.t);
      if (!row) { row = {}; byT.set(s.t, row); }
      row[s.evseId] = s;
    });
    var ts = Array.from(byT.keys()).sort(function (a, b) { return a - b; });
    var data = [ts.map(function (t) { return t / 1000; })];
    ids.forEach(function (id) {
      data.push(ts.map(function (t) { var r = byT.get(t)[id]; return r ? r.powerW / 1000 : null; }));
      data.push(ts.map(function (t) { var r = byT.get(t)[id]; return r ? r.offeredA : null; }));
    });
    return { ids: ids, data: data };
  }

  function renderChart() {
    var cd = chartData();
    var box = $('chart');
    box.dataset.points = String(cd.data[0].length);
    if (typeof uPlot === 'undefined') return;
    var width = Math.max(260, box.clientWidth || 600);
    if (!chart || chart.series.length !== 1 + cd.ids.length * 2) {
      if (chart) chart.destroy();
      var colors = ['#1f5fbf', '#0a7f3f', '#b45309', '#7c3aed'];
      var series = [{}];
      cd.ids.forEach(function (id, i) {
        var col = colors[i % colors.length];
        series.push({ label: 'EVSE ' + id + ' kW', stroke: col, width: 2, scale: 'kW' });
        series.push({ label: 'EVSE ' + id + ' offered A', stroke: col, width: 1, dash: [6, 4], scale: 'A' });
      });
      chart = new uPlot({
        width: width, height: 220, series: series,
        scales: { x: { time: true }, kW: { range: function (u, min, max) { return [0, Math.max(1, max)]; } }, A: { range: function (u, min, max) { return [0, Math.max(6, max)]; } } },
        axes: [{}, { scale: 'kW', label: 'kW' }, { scale: 'A', label: 'A', side: 1, grid: { show: false } }],
      }, cd.data, box);
    } else {
      chart.setData(cd.data);
    }
  }

  window.addEventListener('resize', function () { if (chart) chart.setSize({ width: Math.max(260, $('chart').clientWidth), height: 220 }); });

  function onEvent(type, data) {
    if (type === 'snapshot') { status = data.status; skew = Date.parse(status.now) - Date.now(); frames = data.frames; samples = data.samples; renderStatus(); renderFrames(); renderChart(); }
    else if (type === 'status') { status = data; skew = Date.parse(data.now) - Date.now(); renderStatus(); }
    else if (type === 'frame') { frames.push(data); if (frames.length > 200) frames.shift(); renderFrames(); }
    else if (type === 'samples') {
      samples = samples.concat(data);
      var cut = (data.length ? data[data.length - 1].t : Date.now()) - HOUR;
      while (samples.length && samples[0].t < cut) samples.shift();
      renderChart();
    }
  }

  function connect() {
    fetch('/api/events', { headers: headers(), cache: 'no-store' }).then(function (res) {
      if (!res.ok || !res.body) throw new Error('HTTP ' + res.status);
      var reader = res.body.getReader();
      var dec = new TextDecoder();
      var buf = '';
      function pump() {
        return reader.read().then(function (r) {
          if (r.done) throw new Error('stream ended');
          buf += dec.decode(r.value, { stream: true });
          var i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            var block = buf.slice(0, i); buf = buf.slice(i + 2);
            var ev = 'message', data = '';
            block.split('\n').forEach(function (line) {
              if (line.indexOf('event: ') === 0) ev = line.slice(7);
              else if (line.indexOf('data: ') === 0) data += line.slice(6);
            });
            if (data) { try { onEvent(ev, JSON.parse(data)); } catch (e) { console.error(e); } }
          }
          return pump();
        });
      }
      return pump();
    }).catch(function (e) {
      var link = $('link'); link.textContent = 'page offline (' + e.message + ')'; link.className = 'pill off';
      setTimeout(connect, 3000);
    });
  }
  // The retry countdown moves on its own.
  setInterval(function () { if (status && !status.ocpp.connected) renderStatus(); }, 1000);
  connect();
})();
`;

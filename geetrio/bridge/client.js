// geetrio's bridge client: Python on the server drives this page over a WebSocket.
// <script src="/_bridge/client.js" data-page="hello-world"></script>
// The page calls registered Python functions with `await geetrio.call(name, ...args)`;
// JS functions passed as arguments can be called back by Python. Nothing the server
// sends is evaluated: only the operations below exist.
(function () {
  "use strict";
  const script = document.currentScript;
  const base = script.src.replace(/\/client\.js(\?.*)?$/, "");
  const pageName = script.dataset.page || "";
  const url = base.replace(/^http/, "ws") + "/ws?page=" + encodeURIComponent(pageName);
  const ws = new WebSocket(url);
  const calls = new Map(); // our call id -> {resolve, reject}
  const callbacks = new Map(); // callback number -> function
  let nextId = 1;
  let nextCallback = 1;
  let opened;
  const open = new Promise((resolve) => { opened = resolve; });

  function send(message) { ws.send(JSON.stringify(message)); }

  function element(selector) {
    const found = document.querySelector(selector);
    if (!found) throw new Error("no element matches " + selector);
    return found;
  }

  function plain(value) { // what an argument becomes on the wire
    if (typeof value === "function") {
      const number = nextCallback++;
      callbacks.set(number, value);
      return { $callback: number };
    }
    return value;
  }

  const operations = {
    alert: (m) => { window.alert(m.text); return null; },
    get: (m) => { const v = element(m.selector)[m.prop]; return v === undefined ? null : v; },
    set: (m) => { element(m.selector)[m.prop] = m.value; return null; },
    on: (m) => {
      element(m.selector).addEventListener(m.event, (e) => {
        send({ op: "event", handler: m.handler, event: { type: e.type } });
      });
      return null;
    },
    callback: (m) => {
      const f = callbacks.get(m.callback);
      if (!f) throw new Error("no callback " + m.callback);
      const v = f(...m.args);
      return v === undefined ? null : v;
    },
    ready: () => { document.body.dataset.ready = "true"; return null; },
  };

  ws.onopen = () => opened();
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.op === "result" || m.op === "fail") {
      const call = calls.get(m.id);
      if (!call) return;
      calls.delete(m.id);
      if (m.op === "result") call.resolve(m.value); else call.reject(new Error(m.message));
      return;
    }
    const operation = operations[m.op];
    try {
      if (!operation) throw new Error("unknown operation " + m.op);
      send({ id: m.id, op: "reply", value: operation(m) });
    } catch (error) {
      send({ id: m.id, op: "error", message: String(error && error.message || error) });
    }
  };
  ws.onclose = () => {
    for (const call of calls.values()) call.reject(new Error("the server closed the bridge"));
    calls.clear();
  };

  window.geetrio = {
    ready: open,
    async call(name, ...args) {
      await open;
      const id = nextId++;
      const answer = new Promise((resolve, reject) => calls.set(id, { resolve, reject }));
      send({ id, op: "call", name, args: args.map(plain) });
      return answer;
    },
  };
})();

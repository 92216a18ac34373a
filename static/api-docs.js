// /api/v1/docs: lists the endpoints of /api/v1/openapi.json with their summaries.
// No framework, no CDN; text is set with textContent (nothing from the document is parsed as HTML).
(function () {
  "use strict";
  var METHODS = ["get", "post", "put", "patch", "delete"];

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function render(doc) {
    var status = document.getElementById("api-status");
    var root = document.getElementById("api-endpoints");
    if (doc.info && doc.info.title) {
      document.getElementById("api-title").textContent = doc.info.title;
      document.title = doc.info.title;
    }
    status.textContent = "OpenAPI " + doc.openapi + (doc.info && doc.info.version ? " · version " + doc.info.version : "");
    var byTag = {};
    var order = [];
    Object.keys(doc.paths || {}).sort().forEach(function (path) {
      var item = doc.paths[path];
      METHODS.forEach(function (m) {
        var op = item[m];
        if (!op) return;
        var tag = (op.tags && op.tags[0]) || "other";
        if (!byTag[tag]) { byTag[tag] = []; order.push(tag); }
        byTag[tag].push({ method: m, path: path, op: op });
      });
    });
    order.forEach(function (tag) {
      var section = el("section", "api-tag");
      section.appendChild(el("h2", null, tag));
      var list = el("ul", "api-list");
      byTag[tag].forEach(function (e) {
        var li = el("li", "api-op");
        li.appendChild(el("code", "api-method api-" + e.method, e.method.toUpperCase()));
        li.appendChild(el("code", "api-path", e.path));
        li.appendChild(el("span", "api-summary", e.op.summary || ""));
        if (e.op.description) li.appendChild(el("p", "api-description", e.op.description));
        list.appendChild(li);
      });
      section.appendChild(list);
      root.appendChild(section);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    fetch("/api/v1/openapi.json", { headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(render)
      .catch(function (err) {
        document.getElementById("api-status").textContent = "Could not load openapi.json: " + err.message;
      });
  });
})();

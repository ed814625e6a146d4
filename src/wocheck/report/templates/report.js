/* wocheck reviewers' report. Renders the JSON in #wocheck-data; every value from the data goes into the page
   as text (textContent, properties), never as HTML. Decisions live in localStorage and export as JSON Lines
   ({"order_id","clause","check","decision"}) for `wocheck penalty --decisions`. No network. */
(function () {
  "use strict";

  var DATA = JSON.parse(document.getElementById("wocheck-data").textContent);
  var ORDERS = DATA.orders || [];
  var CLAUSES = DATA.clauses || {};
  var META = DATA.meta || {};
  var PAGE_SIZE = 50;
  var DECISIONS_KEY = "wocheck.decisions.v1";
  var LANG_KEY = "wocheck.lang";

  var T = {
    zh: {
      title: "工单照片合规检查报告", other: "English", export: "导出审核结论",
      stats: function (m) {
        return "共检查工单 " + m.orders + " 单、照片 " + m.photos + " 张；需处理 " + m.flagged + " 单：违规 " +
          m.violations + " 项，待审核 " + m.reviews + " 项，输入错误 " + m.input_errors + " 项。wocheck " +
          m.version + " · 生成于 " + fmtTime(m.generated) + " · 用时 " + m.seconds + " 秒";
      },
      clause: "条款", verdict: "结论", engineer: "工程师", contractor: "承包商", search: "搜索",
      searchPh: "工单号、姓名、地址、问题…", all: "全部", violation: "违规", review: "待审核",
      undecided: "有未审核项", order: "工单号", closed: "结单时间", typeModel: "类型 / 型号",
      clauses: "条款（项数）", fine: "罚款", findings: "问题", shown: function (n, t) { return "显示 " + n + " / " + t + " 单"; },
      page: function (p, n) { return "第 " + p + " / " + n + " 页"; }, prev: "上一页", next: "下一页",
      none: "没有符合条件的工单。", noneAtAll: "没有需要处理的工单。", clauseN: function (c) { return "第" + c + "条"; },
      back: "← 返回列表", record: "工单信息", model: "型号", code: "机器编码", imei: "IMEI", mac: "MAC",
      symptom: "故障现象", note: "故障说明", customer: "客户", address: "地址", tm: "培训经理",
      rm: "责任经理", dispatched: "派单", completed: "完工", photosH: "照片", findingsH: "发现的问题",
      fix: "处理：", check: "检查项", confidence: "置信度", photo: "照片", evidence: "证据",
      confirm: "确认违规", dismiss: "驳回", undo: "撤销", confirmed: "已确认", dismissed: "已驳回",
      pending: "待审核", fineUnknown: "罚款未知", plusPending: function (y) { return "（另 ¥" + y + " 待审核）"; },
      unusable: "照片不可用：", openFull: "查看原图", noThumb: "无缩略图", codes: "读到的码：",
      exif: "拍摄信息：", errors: "输入错误", lineErrors: "无法读取的记录与照片", line: "行",
      reason: "原因", exported: function (n) { return "已导出 " + n + " 条审核结论"; },
      reviewProgress: function (d, t) { return "已审 " + d + "/" + t; }, nothingRecorded: "（无）",
      typeNames: { install: "安装", repair: "维修", maintenance: "保养", filter_change: "换滤芯", relocate: "移机" },
      clsNames: { household: "家用机", commercial: "商用机" },
      slotNames: { service_form: "售后服务单", pipeline_45: "45°管线", install_env: "安装环境",
        machine_running: "机器运行", machine_overall: "整机/安装环境", fault_part: "故障部位", code_label: "铭牌码" }
    },
    en: {
      title: "Work-order photo compliance report", other: "中文", export: "Export decisions",
      stats: function (m) {
        return m.orders + " orders and " + m.photos + " photos checked; " + m.flagged + " orders to act on: " +
          m.violations + " violations, " + m.reviews + " reviews, " + m.input_errors + " input errors. wocheck " +
          m.version + " · generated " + fmtTime(m.generated) + " · " + m.seconds + " s";
      },
      clause: "Clause", verdict: "Verdict", engineer: "Engineer", contractor: "Contractor", search: "Search",
      searchPh: "order, name, address, problem…", all: "All", violation: "violation", review: "review",
      undecided: "undecided reviews", order: "Order", closed: "Closed", typeModel: "Type / model",
      clauses: "Clauses (findings)", fine: "Fine", findings: "Findings",
      shown: function (n, t) { return n + " of " + t + " orders"; },
      page: function (p, n) { return "page " + p + " of " + n; }, prev: "Previous", next: "Next",
      none: "No order matches.", noneAtAll: "No order to act on.", clauseN: function (c) { return "clause " + c; },
      back: "← Back to the list", record: "Order", model: "Model", code: "Machine code", imei: "IMEI", mac: "MAC",
      symptom: "Fault symptom", note: "Fault note", customer: "Customer", address: "Address",
      tm: "Training manager", rm: "Responsible manager", dispatched: "Dispatched", completed: "Completed",
      photosH: "Photos", findingsH: "Findings", fix: "Fix: ", check: "check", confidence: "confidence",
      photo: "photo", evidence: "Evidence", confirm: "Confirm", dismiss: "Dismiss", undo: "Undo",
      confirmed: "confirmed", dismissed: "dismissed", pending: "pending review", fineUnknown: "fine unknown",
      plusPending: function (y) { return " (+¥" + y + " pending review)"; }, unusable: "Photo unusable: ",
      openFull: "full photo", noThumb: "no thumbnail", codes: "Codes read: ", exif: "EXIF: ",
      errors: "Input errors", lineErrors: "Unreadable records and photos", line: "Line", reason: "Reason",
      exported: function (n) { return n + " decision(s) exported"; },
      reviewProgress: function (d, t) { return d + "/" + t + " reviewed"; }, nothingRecorded: "(none)",
      typeNames: { install: "install", repair: "repair", maintenance: "maintenance", filter_change: "filter change",
        relocate: "relocate" },
      clsNames: { household: "household", commercial: "commercial" },
      slotNames: { service_form: "service form", pipeline_45: "pipeline 45°", install_env: "install environment",
        machine_running: "machine running", machine_overall: "whole machine", fault_part: "fault part",
        code_label: "code label" }
    }
  };

  /* ---- storage (localStorage, or memory when the browser refuses it for file:// pages) ---- */
  var store = (function () {
    try {
      var k = "wocheck.__probe";
      window.localStorage.setItem(k, k);
      window.localStorage.removeItem(k);
      return window.localStorage;
    } catch (e) {
      var mem = Object.create(null);
      return {
        getItem: function (key) { return key in mem ? mem[key] : null; },
        setItem: function (key, v) { mem[key] = String(v); }
      };
    }
  })();

  function readDecisions() {
    try {
      var d = JSON.parse(store.getItem(DECISIONS_KEY) || "{}");
      return d && typeof d === "object" ? d : {};
    } catch (e) { return {}; }
  }
  var decisions = readDecisions();
  function dkey(oid, v) { return JSON.stringify([oid, v.clause, v.check]); }
  function decisionOf(oid, v) {
    var d = Object.prototype.hasOwnProperty.call(decisions, dkey(oid, v)) ? decisions[dkey(oid, v)] : null;
    return d && (d.decision === "confirmed" || d.decision === "dismissed") ? d.decision : null;
  }
  function setDecision(oid, v, decision) {
    decisions = readDecisions();
    var k = dkey(oid, v);
    if (decision) {
      decisions[k] = { order_id: oid, clause: v.clause, check: v.check, decision: decision,
        at: new Date().toISOString() };
    } else {
      delete decisions[k];
    }
    store.setItem(DECISIONS_KEY, JSON.stringify(decisions));
  }

  var state = {
    lang: store.getItem(LANG_KEY) === "en" ? "en" : "zh",
    f: { clause: "", verdict: "", eng: "", con: "", q: "" },
    sort: { key: "fine", dir: -1 },
    page: 0,
    listScroll: 0
  };
  function t() { return T[state.lang]; }

  /* ---- DOM helpers: data only ever becomes text ---- */
  function h(tag, props) {
    var el = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        var val = props[k];
        if (val === null || val === undefined) { return; }
        if (k === "text") { el.textContent = String(val); }
        else if (k === "cls") { el.className = val; }
        else if (k === "on") { Object.keys(val).forEach(function (ev) { el.addEventListener(ev, val[ev]); }); }
        else if (k === "data") { Object.keys(val).forEach(function (d) { el.dataset[d] = String(val[d]); }); }
        else { el[k] = val; }
      });
    }
    for (var i = 2; i < arguments.length; i++) { add(el, arguments[i]); }
    return el;
  }
  function add(el, child) {
    if (child === null || child === undefined || child === false) { return; }
    if (Array.isArray(child)) { child.forEach(function (c) { add(el, c); }); return; }
    el.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
  function clear(el) { while (el.firstChild) { el.removeChild(el.firstChild); } }
  function safeHref(u) {  // our relative paths only: nothing with a scheme (javascript:, http:, ...)
    return typeof u === "string" && u && !/^[\s\u0000-\u001f]*[a-zA-Z][a-zA-Z0-9+.\-]*:/.test(u) &&
      u.indexOf("//") !== 0 ? u : null;
  }
  function fmtTime(iso) { return typeof iso === "string" ? iso.slice(0, 16).replace("T", " ") : ""; }
  function yuan(v) { return v === null || v === undefined ? "—" : "¥" + (Math.round(v * 100) / 100); }
  function person(p) { return p ? (p[0] + (p[1] ? " " + p[1] : "")) : ""; }
  function msg(v) { return state.lang === "en" ? (v.msg_en || v.msg_zh) : (v.msg_zh || v.msg_en); }
  function hint(v) { return state.lang === "en" ? (v.hint_en || v.hint_zh) : (v.hint_zh || v.hint_en); }

  /* ---- per-order figures (fine after decisions) ---- */
  ORDERS.forEach(function (o, i) {
    o._i = i;
    var parts = [o.id, o.model, o.code, o.imei, o.mac, o.symptom, o.note, person(o.eng), person(o.con),
      person(o.tm), person(o.rm)].concat(o.customer || []);
    o.v.forEach(function (v) { parts.push(v.check, v.msg_zh, v.msg_en, v.photo); });
    o.p.forEach(function (p) { parts.push(p.file); });
    o._text = parts.filter(function (x) { return x; }).join("\n").toLowerCase();
    o._eng = person(o.eng).toLowerCase();
    o._con = person(o.con).toLowerCase();
    o._verdict = o.v.some(function (v) { return v.verdict === "violation"; }) ? "violation" : "review";
  });

  function figures(o) {
    var cl = {};
    o.v.forEach(function (v) {
      var c = cl[v.clause] || (cl[v.clause] = { n: 0, viol: false, rev: 0, conf: 0, dis: 0 });
      c.n++;
      if (v.verdict === "violation") { c.viol = true; return; }
      c.rev++;
      var d = decisionOf(o.id, v);
      if (d === "confirmed") { c.conf++; } else if (d === "dismissed") { c.dis++; }
    });
    var fine = 0, known = true, pending = 0, undecided = 0, reviews = 0;
    Object.keys(cl).forEach(function (k) {
      var c = cl[k], info = Object.prototype.hasOwnProperty.call(CLAUSES, k) ? CLAUSES[k] : null;
      var f = info && typeof info.fine === "number" ? info.fine : null;
      undecided += c.rev - c.conf - c.dis;
      reviews += c.rev;
      if (c.viol || c.conf > 0) { c.state = "charged"; if (f === null) { known = false; } else { fine += f; } }
      else if (c.dis === c.rev) { c.state = "dismissed"; }
      else { c.state = "pending"; if (f !== null) { pending += f; } }
    });
    return { clauses: cl, fine: known ? fine : null, pending: pending, undecided: undecided, reviews: reviews };
  }

  /* ---- the list ---- */
  function matches(o) {
    var f = state.f;
    if (f.clause && !o.v.some(function (v) { return String(v.clause) === f.clause; })) { return false; }
    if (f.verdict === "violation" && o._verdict !== "violation") { return false; }
    if (f.verdict === "review" && !o.v.some(function (v) { return v.verdict === "review"; })) { return false; }
    if (f.verdict === "undecided" && figures(o).undecided === 0) { return false; }
    if (f.eng && o._eng.indexOf(f.eng.toLowerCase()) < 0) { return false; }
    if (f.con && o._con.indexOf(f.con.toLowerCase()) < 0) { return false; }
    if (f.q) {
      var words = f.q.toLowerCase().split(/\s+/).filter(function (w) { return w; });
      for (var i = 0; i < words.length; i++) { if (o._text.indexOf(words[i]) < 0) { return false; } }
    }
    return true;
  }
  var SORTS = {
    id: function (o) { return o.id; }, closed: function (o) { return o.closed; },
    eng: function (o) { return o._eng; }, con: function (o) { return o._con; },
    n: function (o) { return o.v.length; }, verdict: function (o) { return o._verdict; },
    fine: function (o) { var f = figures(o).fine; return f === null ? -1 : f; }
  };
  function sorted(list) {
    var key = SORTS[state.sort.key] || SORTS.fine, dir = state.sort.dir;
    return list.map(function (o) { return [key(o), o]; }).sort(function (a, b) {
      if (a[0] < b[0]) { return -dir; }
      if (a[0] > b[0]) { return dir; }
      return a[1]._i - b[1]._i;
    }).map(function (x) { return x[1]; });
  }

  function datalist(id, people) {
    var seen = Object.create(null), dl = h("datalist", { id: id });
    people.forEach(function (p) {
      var s = person(p);
      if (s && !seen[s]) { seen[s] = true; dl.appendChild(h("option", { value: s })); }
    });
    return dl;
  }

  function renderList(app) {
    var L = t();
    var clauseSel = h("select", { id: "f-clause", on: { change: function (e) { state.f.clause = e.target.value; state.page = 0; renderRows(); } } },
      h("option", { value: "", text: L.all }),
      Object.keys(CLAUSES).map(function (c) {
        var txt = L.clauseN(c) + (state.lang === "zh" && CLAUSES[c].text_zh ? " " + CLAUSES[c].text_zh.slice(0, 16) : "");
        return h("option", { value: c, text: txt, title: CLAUSES[c].text_zh || "" });
      }));
    clauseSel.value = state.f.clause;
    var verdictSel = h("select", { id: "f-verdict", on: { change: function (e) { state.f.verdict = e.target.value; state.page = 0; renderRows(); } } },
      h("option", { value: "", text: L.all }), h("option", { value: "violation", text: L.violation }),
      h("option", { value: "review", text: L.review }), h("option", { value: "undecided", text: L.undecided }));
    verdictSel.value = state.f.verdict;
    var timer = null;
    function textInput(id, key, extra) {
      var inp = h("input", Object.assign({ id: id, type: "search", value: state.f[key], on: {
        input: function (e) {
          state.f[key] = e.target.value;
          clearTimeout(timer);
          timer = setTimeout(function () { state.page = 0; renderRows(); }, 150);
        } } }, extra || {}));
      return inp;
    }
    var filters = h("div", { cls: "filters" },
      h("label", null, L.clause, clauseSel),
      h("label", null, L.verdict, verdictSel),
      h("label", null, L.engineer, textInput("f-eng", "eng", { autocomplete: "off" })),
      h("label", null, L.contractor, textInput("f-con", "con", { autocomplete: "off" })),
      h("label", null, L.search, textInput("f-q", "q", { className: "wide", placeholder: L.searchPh })),
      datalist("dl-eng", ORDERS.map(function (o) { return o.eng; })),
      datalist("dl-con", ORDERS.map(function (o) { return o.con; })));
    filters.querySelector("#f-eng").setAttribute("list", "dl-eng");
    filters.querySelector("#f-con").setAttribute("list", "dl-con");
    app.appendChild(filters);
    app.appendChild(h("div", { id: "rows" }));
    renderRows();
    if (DATA.errors && DATA.errors.length) {
      app.appendChild(h("details", { id: "errors" }, h("summary", null, h("h2", { text: L.lineErrors + " (" + DATA.errors.length + ")" })),
        h("table", null, h("thead", null, h("tr", null, h("th", { text: L.line }), h("th", { text: L.order }), h("th", { text: L.reason }))),
          h("tbody", null, DATA.errors.map(function (e) {
            return h("tr", null, h("td", { text: e.line === null ? "" : e.line }), h("td", { text: e.order_id || "" }), h("td", { text: e.reason }));
          })))));
    }
  }

  function renderRows() {
    var L = t(), box = document.getElementById("rows");
    if (!box) { return; }
    clear(box);
    if (!ORDERS.length) { box.appendChild(h("p", { cls: "empty", text: L.noneAtAll })); return; }
    var list = sorted(ORDERS.filter(matches));
    var pages = Math.max(1, Math.ceil(list.length / PAGE_SIZE));
    state.page = Math.min(state.page, pages - 1);
    var slice = list.slice(state.page * PAGE_SIZE, (state.page + 1) * PAGE_SIZE);
    function th(key, label, cls) {
      var arrow = state.sort.key === key ? (state.sort.dir > 0 ? " ▲" : " ▼") : "";
      return h("th", { cls: "sortable " + (cls || ""), text: label + arrow, data: { sort: key }, on: { click: function () {
        state.sort = { key: key, dir: state.sort.key === key ? -state.sort.dir : (key === "fine" || key === "n" ? -1 : 1) };
        renderRows();
      } } });
    }
    var table = h("table", { id: "orders" },
      h("thead", null, h("tr", null, th("id", L.order), th("closed", L.closed), h("th", { text: L.typeModel }),
        th("eng", L.engineer), th("con", L.contractor), h("th", { text: L.clauses }), th("verdict", L.verdict),
        th("fine", L.fine, "num"), th("n", L.findings, "num"))),
      h("tbody", null, slice.map(function (o) {
        var fg = figures(o);
        var chips = Object.keys(fg.clauses).map(function (c) {
          var x = fg.clauses[c], kind = x.viol ? "violation" : (x.state === "charged" ? "confirmed" : (x.state === "dismissed" ? "dismissed" : "review"));
          return h("span", { cls: "chip " + kind, text: c + "×" + x.n, title: (CLAUSES[c] && CLAUSES[c].text_zh) || "" });
        });
        var fineCell = h("td", { cls: "num" }, yuan(fg.fine));
        if (fg.pending > 0) { fineCell.appendChild(h("div", { cls: "muted", text: L.plusPending(fg.pending) })); }
        var verdictCell = h("td", { cls: "verdict-" + o._verdict, text: L[o._verdict] });
        if (fg.reviews) { verdictCell.appendChild(h("div", { cls: "muted", text: L.reviewProgress(fg.reviews - fg.undecided, fg.reviews) })); }
        return h("tr", { cls: "row", data: { oid: o.id } },
          h("td", null, h("a", { cls: "oid", href: "#o=" + o._i, text: o.id })),
          h("td", { text: fmtTime(o.closed) }),
          h("td", null, (L.clsNames[o.cls] || o.cls) + " · " + (L.typeNames[o.type] || o.type), h("div", { cls: "muted", text: o.model })),
          h("td", { text: person(o.eng) }), h("td", { text: person(o.con) }),
          h("td", null, chips), verdictCell, fineCell, h("td", { cls: "num", text: o.v.length }));
      })));
    box.appendChild(h("div", { cls: "pager" },
      h("span", { id: "shown", text: L.shown(list.length, ORDERS.length) }),
      h("button", { type: "button", id: "prev", text: L.prev, disabled: state.page === 0, on: { click: function () { state.page--; renderRows(); } } }),
      h("span", { id: "pageno", text: L.page(state.page + 1, pages) }),
      h("button", { type: "button", id: "next", text: L.next, disabled: state.page >= pages - 1, on: { click: function () { state.page++; renderRows(); } } })));
    box.appendChild(list.length ? table : h("p", { cls: "empty", text: L.none }));
  }

  /* ---- one order ---- */
  function kv(pairs) {
    var dl = h("dl", { cls: "kv" });
    pairs.forEach(function (p) {
      if (p[1] === null || p[1] === undefined || p[1] === "") { return; }
      dl.appendChild(h("dt", { text: p[0] }));
      dl.appendChild(h("dd", { text: p[1] }));
    });
    return dl;
  }

  function renderFinding(o, v, i) {
    var L = t(), d = v.verdict === "review" ? decisionOf(o.id, v) : null;
    var box = h("div", { cls: "finding " + v.verdict + (d === "dismissed" ? " dismissed" : ""), id: "f-" + i, data: { check: v.check, clause: v.clause } },
      h("div", null, h("span", { cls: "num", text: i + 1 }), h("span", { cls: "chip " + v.verdict, text: L.clauseN(v.clause) + " · " + L[v.verdict] }),
        d ? h("span", { cls: "chip " + d, text: L[d] }) : null, " ", h("span", { cls: "msg", text: msg(v) })),
      hint(v) ? h("div", null, L.fix + hint(v)) : null,
      h("div", { cls: "muted" }, L.check + " " + v.check + " · " + L.confidence + " " + v.confidence +
        (v.photo ? " · " + L.photo + " " : ""), v.photo ? h("span", { cls: "file", text: v.photo }) : null),
      v.evidence && Object.keys(v.evidence).length ?
        h("details", null, h("summary", { text: L.evidence }), h("pre", { text: JSON.stringify(v.evidence, null, 1) })) : null);
    if (v.verdict === "review") {
      box.appendChild(h("div", { cls: "decide" },
        h("button", { type: "button", cls: "decide-confirm" + (d === "confirmed" ? " on" : ""), text: L.confirm,
          on: { click: function () { setDecision(o.id, v, "confirmed"); render(); } } }),
        h("button", { type: "button", cls: "decide-dismiss" + (d === "dismissed" ? " on" : ""), text: L.dismiss,
          on: { click: function () { setDecision(o.id, v, "dismissed"); render(); } } }),
        d ? h("button", { type: "button", cls: "decide-undo", text: L.undo, on: { click: function () { setDecision(o.id, v, null); render(); } } }) : null));
    }
    return box;
  }

  function renderPhoto(o, p) {
    var L = t(), href = safeHref(p.href), thumb = safeHref(p.thumb), media;
    if (thumb) {
      var img = h("img", { src: thumb, loading: "lazy", alt: p.file, decoding: "async" });
      img.addEventListener("error", function () { img.replaceWith(h("div", { cls: "nothumb", text: L.noThumb })); });
      media = href ? h("a", { href: href, target: "_blank", rel: "noopener", title: L.openFull }, img) : img;
    } else {
      media = h("div", { cls: "nothumb", text: p.usable ? L.noThumb : L.unusable + (state.lang === "en" ? p.reason_en : p.reason_zh) });
    }
    var ex = p.exif || {}, exifBits = [];
    if (ex.captured_at) { exifBits.push(fmtTime(ex.captured_at)); }
    if (ex.make || ex.model) { exifBits.push([ex.make, ex.model].filter(Boolean).join(" ")); }
    if (ex.gps) { exifBits.push("GPS " + ex.gps.join(", ")); }
    if (ex.software) { exifBits.push(ex.software); }
    var codes = Array.isArray(p.codes) ? p.codes.map(function (c) { return (c.kind || "") + " " + (c.text || ""); }) : [];
    return h("figure", null, media, h("figcaption", null,
      h("strong", { text: L.slotNames[p.slot] || p.slot }), " ",
      href ? h("a", { href: href, target: "_blank", rel: "noopener", cls: "file", text: p.file }) : h("span", { cls: "file", text: p.file }),
      exifBits.length ? h("div", { cls: "muted", text: L.exif + exifBits.join(" · ") }) : null,
      codes.length ? h("div", { text: L.codes + codes.join("；") }) : null,
      p.findings.length ? h("ol", null, p.findings.map(function (k) {
        var li = h("li", { value: k + 1, text: msg(o.v[k]) });
        return li;
      })) : null));
  }

  function renderOrder(app, o) {
    var L = t(), fg = figures(o);
    var fineText = yuan(fg.fine) + (fg.pending > 0 ? L.plusPending(fg.pending) : "");
    app.appendChild(h("p", { cls: "back" }, h("a", { href: "#", id: "back", text: L.back })));
    app.appendChild(h("h2", { id: "order-id" }, o.id + " ", h("span", { cls: "verdict-" + o._verdict, text: L[o._verdict] })));
    app.appendChild(kv([
      [L.typeModel, (L.clsNames[o.cls] || o.cls) + " · " + (L.typeNames[o.type] || o.type) + " · " + o.model],
      [L.code, o.code], [L.imei, o.imei], [L.mac, o.mac], [L.symptom, o.symptom], [L.note, o.note],
      [L.customer, o.customer[0]], [L.address, o.customer[1]],
      [L.engineer, person(o.eng)], [L.contractor, person(o.con)], [L.tm, person(o.tm)], [L.rm, person(o.rm)],
      [L.dispatched, fmtTime(o.dispatched)], [L.completed, fmtTime(o.completed)], [L.closed, fmtTime(o.closed)],
      [L.fine, fineText]
    ]));
    app.appendChild(h("h3", { text: L.findingsH + " (" + o.v.length + ")" }));
    app.appendChild(h("div", { id: "findings" }, o.v.map(function (v, i) { return renderFinding(o, v, i); })));
    if (o.errors && o.errors.length) {
      app.appendChild(h("h3", { text: L.errors }));
      app.appendChild(h("ul", null, o.errors.map(function (e) { return h("li", { text: e }); })));
    }
    app.appendChild(h("h3", { text: L.photosH + " (" + o.p.length + ")" }));
    app.appendChild(o.p.length ? h("div", { cls: "photos" }, o.p.map(function (p) { return renderPhoto(o, p); }))
      : h("p", { cls: "muted", text: L.nothingRecorded }));
  }

  /* ---- export ---- */
  function exportLines() {
    decisions = readDecisions();
    var lines = [], seen = Object.create(null);
    ORDERS.forEach(function (o) {
      o.v.forEach(function (v) {
        if (v.verdict !== "review") { return; }
        var d = decisionOf(o.id, v), k = dkey(o.id, v);
        if (!d || seen[k]) { return; }
        seen[k] = true;
        lines.push(JSON.stringify({ order_id: o.id, clause: v.clause, check: v.check, decision: d }));
      });
    });
    return lines;
  }
  function doExport() {
    var lines = exportLines(), text = lines.length ? lines.join("\n") + "\n" : "";
    var blob = new Blob([text], { type: "application/x-ndjson;charset=utf-8" });
    var stamp = (META.generated || "").slice(0, 10).replace(/-/g, "");
    var a = h("a", { href: URL.createObjectURL(blob), download: "wocheck-decisions-" + stamp + ".jsonl" });
    window.wocheckReport.lastExport = { blob: blob, text: text, count: lines.length, name: a.download };
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(a.href); }, 60000);
    document.getElementById("export").title = t().exported(lines.length);
  }

  /* ---- frame ---- */
  function current() {
    var m = /^#o=(\d+)$/.exec(window.location.hash);
    return m && ORDERS[+m[1]] ? ORDERS[+m[1]] : null;
  }
  function render() {
    var L = t(), app = document.getElementById("app"), o = current();
    document.documentElement.lang = state.lang === "en" ? "en" : "zh-CN";
    document.title = "wocheck · " + L.title;
    document.getElementById("title").textContent = L.title;
    document.getElementById("lang").textContent = L.other;
    document.getElementById("stats").textContent = L.stats(META);
    var n = exportLines().length;
    document.getElementById("export").textContent = L.export + " (" + n + ")";
    clear(app);
    if (o) { renderOrder(app, o); } else { renderList(app); }
  }

  window.wocheckReport = { lastExport: null, exportLines: exportLines };
  document.getElementById("lang").addEventListener("click", function () {
    state.lang = state.lang === "en" ? "zh" : "en";
    store.setItem(LANG_KEY, state.lang);
    render();
  });
  document.getElementById("export").addEventListener("click", doExport);
  var wasOrder = false;
  window.addEventListener("hashchange", function () {
    var o = current();
    if (o && !wasOrder) { state.listScroll = window.scrollY; }
    render();
    window.scrollTo(0, o ? 0 : state.listScroll);
    wasOrder = !!o;
  });
  window.addEventListener("storage", function (e) { if (e.key === DECISIONS_KEY) { decisions = readDecisions(); render(); } });
  wasOrder = !!current();
  render();
})();

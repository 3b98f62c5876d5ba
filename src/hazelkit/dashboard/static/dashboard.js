// The hazelkit dashboard: renders each snapshot the server streams (server-sent events).
// Plain DOM calls and textContent only: nothing from the cluster is parsed as HTML.
"use strict";

(function () {
  const PALETTE = 8;
  const state = { frame: null, selected: null, search: "", status: "", colours: new Map() };
  const busy = { list: false, detail: false };

  const $ = (id) => document.getElementById(id);

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function row(cells, attrs) {
    const tr = document.createElement("tr");
    for (const cell of cells) {
      tr.append(cell instanceof Node ? wrap(cell) : el("td", cell));
    }
    for (const [key, value] of Object.entries(attrs || {})) tr.dataset[key] = value;
    return tr;
  }

  function wrap(node) {
    const td = document.createElement("td");
    td.append(node);
    return td;
  }

  function fill(id, rows) {
    $(id).replaceChildren(...rows);
  }

  function clock(seconds) {
    if (!seconds) return "-";
    return new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19);
  }

  function time(seconds) {
    return seconds ? clock(seconds).slice(11) : "-";
  }

  function ago(seconds) {
    const s = Math.max(0, seconds);
    return s < 120 ? `${s.toFixed(1)} s ago` : `${Math.round(s / 60)} min ago`;
  }

  function colourOf(node) {
    if (!node) return "free";
    if (!state.colours.has(node)) state.colours.set(node, state.colours.size % PALETTE);
    return `owner-${state.colours.get(node)}`;
  }

  function nodeTag(node) {
    if (!node) return el("span", "-", "muted");
    const tag = el("span", node, `node ${colourOf(node)}`);
    tag.title = node;
    return tag;
  }

  // --- one snapshot -------------------------------------------------------------------

  function render(frame) {
    state.frame = frame;
    $("cluster-url").textContent = frame.url;
    $("taken-at").textContent = `snapshot ${frame.frame} at ${clock(frame.taken_at)} UTC`;
    const error = $("read-error");
    error.hidden = !frame.error;
    error.textContent = frame.error ? `last read failed: ${frame.error}` : "";
    renderNodes(frame);
    renderPartitions(frame);
    renderChanges(frame);
    renderStatuses(frame);
    renderLeases(frame);
    renderMembers(frame);
    $("actions").hidden = !frame.actions;
    refreshWorkflows();
    if (state.selected) refreshDetail();
  }

  function renderNodes(frame) {
    $("node-count").textContent = frame.nodes.length;
    $("no-nodes").hidden = frame.nodes.length > 0;
    fill("nodes", frame.nodes.map((node) => {
      const held = Object.values(node.partitions).reduce((n, list) => n + list.length, 0);
      const hosting = Object.entries(node.spaces).map(([space, v]) => `${space} v${v}`).join(", ");
      return row(
        [nodeTag(node.id), `${node.host}:${node.pid}`, hosting || "-", held,
          time(node.started), ago(frame.taken_at - node.heartbeat)],
        { node: node.id },
      );
    }));
  }

  function renderPartitions(frame) {
    const spaces = new Map();
    for (const view of frame.partitions) {
      if (!spaces.has(view.space)) spaces.set(view.space, []);
      spaces.get(view.space).push(view);
    }
    const blocks = [];
    for (const [space, views] of spaces) {
      const block = el("div", null, "space");
      block.dataset.space = space;
      block.append(el("h3", space));
      const grid = el("div", null, "cells");
      for (const view of views) {
        const cell = el("span", view.partition, `cell ${colourOf(view.owner)}`);
        cell.title = `${space} #${view.partition}: ${view.owner || "free"} (epoch ${view.epoch})` +
          (view.inbox_depth === null ? "" : `, ${view.inbox_depth} waiting`);
        cell.dataset.owner = view.owner || "";
        grid.append(cell);
      }
      block.append(grid);
      blocks.push(block);
    }
    $("partitions").replaceChildren(...blocks);
  }

  function renderChanges(frame) {
    $("change-count").textContent = frame.changes.length;
    $("no-changes").hidden = frame.changes.length > 0;
    fill("changes", frame.changes.map((change) => {
      const item = el("li");
      item.append(
        el("span", time(change.at), "muted"), " ",
        el("span", change.kind, `kind ${change.kind}`), " ",
        el("code", `${change.space} #${change.partition}`), " ",
        nodeTag(change.previous), " → ", nodeTag(change.owner),
        el("span", ` epoch ${change.epoch}, ${change.workflows} workflow(s)`, "muted"),
      );
      item.dataset.kind = change.kind;
      return item;
    }));
  }

  function renderStatuses(frame) {
    $("workflow-total").textContent = frame.workflow_total;
    const chips = [["", frame.workflow_total, "all"]];
    for (const [status, count] of Object.entries(frame.workflow_statuses)) {
      chips.push([status, count, status]);
    }
    $("statuses").replaceChildren(...chips.map(([status, count, label]) => {
      const chip = el("button", `${label} ${count}`, `chip status-${label}`);
      chip.type = "button";
      chip.dataset.status = status;
      if (status === state.status) chip.classList.add("chosen");
      chip.addEventListener("click", () => {
        state.status = status;
        renderStatuses(state.frame);
        refreshWorkflows();
      });
      return chip;
    }));
  }

  function renderLeases(frame) {
    $("lease-count").textContent = frame.leases.length;
    fill("leases", frame.leases.map((lease) => row([
      lease.kind, lease.slot ? `${lease.name} [${lease.slot}]` : lease.name,
      nodeTag(lease.holder), lease.token, ago(frame.taken_at - lease.since),
    ])));
  }

  function renderMembers(frame) {
    $("member-count").textContent = frame.members.length;
    fill("members", frame.members.map((m) => row([m.uuid, m.address])));
    $("structure-count").textContent = frame.structures.length;
    fill("structures", frame.structures.map((s) => row([s.kind, s.name, s.size ?? "-"])));
  }

  // --- workflows: the list and one workflow -------------------------------------------

  async function getJson(path) {
    const response = await fetch(path, { cache: "no-store" });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    return body;
  }

  async function refreshWorkflows() {
    if (busy.list) return;
    busy.list = true;
    try {
      const query = new URLSearchParams({ search: state.search, status: state.status });
      const listing = await getJson(`api/workflows?${query}`);
      $("matched").textContent = `${listing.matched} matching` +
        (listing.matched > listing.workflows.length ? `, first ${listing.workflows.length} shown` : "");
      fill("workflows", listing.workflows.map((w) => {
        const id = el("button", w.id, "link");
        id.type = "button";
        id.addEventListener("click", () => select(w.id));
        const tr = row([id, w.type, el("span", w.status, `status status-${w.status}`),
          nodeTag(w.node), w.partition ?? "-", w.messages_applied, w.updated.slice(0, 19)],
        { workflow: w.id, node: w.node || "" });
        if (w.id === state.selected) tr.classList.add("chosen");
        return tr;
      }));
    } catch (error) {
      $("matched").textContent = `listing failed: ${error.message}`;
    } finally {
      busy.list = false;
    }
  }

  function select(id) {
    state.selected = id;
    $("detail-section").hidden = false;
    $("detail-id").textContent = id;
    $("action-result").textContent = "";
    refreshDetail();
    refreshWorkflows();
  }

  async function refreshDetail() {
    if (busy.detail || !state.selected) return;
    busy.detail = true;
    const id = state.selected;
    try {
      const detail = await getJson(`api/workflows/${encodeURIComponent(id)}`);
      if (id === state.selected) renderDetail(detail);
    } catch (error) {
      $("detail-state").textContent = `could not read ${id}: ${error.message}`;
    } finally {
      busy.detail = false;
    }
  }

  function renderDetail(detail) {
    const w = detail.workflow;
    const fields = [
      ["type", `${w.type} (version ${w.version})`], ["status", w.status],
      ["node now", w.node || "-"], ["partition", w.partition ?? "-"],
      ["last committed by", `${w.owner || "-"} (epoch ${w.epoch})`],
      ["messages applied", `${w.messages_applied} (last inbox sequence ${w.last_sequence})`],
      ["held", w.held], ["timers", Object.entries(w.timers).map(([n, at]) => `${n} at ${at}`).join(", ") || "-"],
      ["last error", w.error || "-"], ["created", w.created], ["updated", w.updated],
    ];
    $("detail-fields").replaceChildren(...fields.flatMap(([name, value]) => [el("dt", name), el("dd", value)]));
    $("detail-state").textContent = JSON.stringify(w.state, null, 2);
    fill("history", detail.history.slice().reverse().map((t) => row([t.at.slice(0, 19), t.sequence, t.what, t.status])));
  }

  async function act(action) {
    const id = state.selected;
    if (!id) return;
    if (action !== "resume" && !window.confirm(`${action} workflow ${id}?`)) return;
    const response = await fetch(`api/workflows/${encodeURIComponent(id)}/${action}`, {
      method: "POST",
      headers: { "Authorization": `Bearer ${$("token").value}`, "Content-Type": "application/json" },
      body: JSON.stringify({ reason: $("reason").value }),
    });
    const body = await response.json();
    $("action-result").textContent = response.ok ? `${action} sent` : `refused: ${body.error}`;
  }

  // --- wiring -------------------------------------------------------------------------

  function connect() {
    const events = new EventSource("api/events");
    const live = $("live");
    events.addEventListener("open", () => { live.textContent = "live"; live.className = "pill on"; });
    events.addEventListener("error", () => { live.textContent = "reconnecting"; live.className = "pill off"; });
    events.addEventListener("frame", (event) => render(JSON.parse(event.data)));
  }

  document.addEventListener("DOMContentLoaded", () => {
    let typing = null;
    $("search").addEventListener("input", (event) => {
      state.search = event.target.value;
      clearTimeout(typing);
      typing = setTimeout(refreshWorkflows, 200);
    });
    $("detail-close").addEventListener("click", () => {
      state.selected = null;
      $("detail-section").hidden = true;
      refreshWorkflows();
    });
    for (const button of document.querySelectorAll("#actions button")) {
      button.addEventListener("click", () => act(button.dataset.action));
    }
    connect();
  });
})();

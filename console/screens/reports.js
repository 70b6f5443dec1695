// Reports: the monthly or quarterly report the API renders (its own SVG charts), its CSV, goals' progress.
import * as api from "../api.js";
import { h, clear, field, say, errorText } from "../ui.js";
import { today } from "../time.js";

function quarters(now, count = 8) {
  let [year, month] = now.split("-").map(Number);
  let quarter = Math.floor((month - 1) / 3) + 1;
  const out = [];
  for (let i = 0; i < count; i++) {
    out.push(`${year}-Q${quarter}`);
    quarter -= 1;
    if (quarter === 0) { quarter = 4; year -= 1; }
  }
  return out;
}

export async function reportsScreen(main, context) {
  const now = today(context.workspace.timezone);
  const kind = h("select", { id: "report-kind" }, h("option", { value: "monthly" }, "Monthly"), h("option", { value: "quarterly" }, "Quarterly"));
  const month = h("input", { type: "month", id: "report-month", value: now.slice(0, 7) });
  const quarter = h("select", { id: "report-quarter" }, quarters(now).map((q) => h("option", { value: q }, q)));
  const monthField = field("Month", month);
  const quarterField = field("Quarter", quarter);
  quarterField.hidden = true;
  const frame = h("iframe", { id: "report-frame", title: "Report", sandbox: "", class: "report-frame" });
  const download = h("a", { class: "button", id: "report-csv", hidden: true }, "Download CSV");
  const goals = h("section", { class: "goals", "aria-label": "Goals" });

  const params = () => (kind.value === "monthly" ? { month: month.value } : { quarter: quarter.value });
  const fetchReport = (format) => (kind.value === "monthly"
    ? api.get_reports_monthly({ ...params(), format }, undefined, { as: format === "csv" ? "blob" : "text" })
    : api.get_reports_quarterly({ ...params(), format }, undefined, { as: format === "csv" ? "blob" : "text" }));

  async function show() {
    try {
      const html = await fetchReport("html");
      frame.srcdoc = html;
      const csv = await fetchReport("csv");
      if (download.href) URL.revokeObjectURL(download.href);
      download.href = URL.createObjectURL(csv);
      download.download = `herald-report-${Object.values(params())[0]}.csv`;
      download.hidden = false;
    } catch (error) { say(errorText(error), "error"); }
  }

  async function showGoals() {
    if (!api.available("get_goals")) return;
    try {
      const page = await api.get_goals({});
      clear(goals).append(h("h2", {}, "Goals"), h("ul", {}, (page.items || []).map((g) => {
        const share = Math.max(0, Math.min(1, Number(g.progress ?? (g.current / g.target)) || 0));
        return h("li", {}, `${g.name || g.metric}: `, h("progress", { max: 1, value: share, "aria-label": `${g.name || g.metric} progress` }),
          ` ${Math.round(share * 100)}%`);
      })));
    } catch { /* goals are extra: the report stands without them */ }
  }

  kind.addEventListener("change", () => { monthField.hidden = kind.value !== "monthly"; quarterField.hidden = kind.value === "monthly"; show(); });
  month.addEventListener("change", show);
  quarter.addEventListener("change", show);
  main.append(h("div", { class: "screen-head" }, h("h1", {}, "Reports"), h("p", { class: "tz-note" }, `Days in ${context.workspace.timezone}`)),
    h("form", { class: "filters", "aria-label": "Report period", on: { submit: (e) => { e.preventDefault(); show(); } } },
      field("Report", kind), monthField, quarterField, h("button", { type: "submit", class: "primary" }, "Show"), download),
    goals, frame);
  await show();
  await showGoals();
}

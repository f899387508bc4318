package com.odooupgradecourier.service;

import static com.odooupgradecourier.service.Html.esc;

import com.odooupgradecourier.store.Reports;
import com.odooupgradecourier.store.Step;
import java.time.DayOfWeek;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.temporal.TemporalAdjusters;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.camel.Header;

/**
 * {@code GET /}: the operator's window. Totals per step first, then the dumps that need a person (bounced, restore
 * failed, waiting after a fault for more than an hour), a chart of how long deliveries took, and every dump, newest
 * first, 200 a page, found by name or request id and filtered by step. The live part is read again every 10 s without
 * losing the scroll position (and without scripts, the page reloads itself).
 */
public class Overview {
    /** A dump waiting after a fault for longer than this needs a person. */
    static final long WAITING_LONG_MILLIS = 60 * 60_000L;
    static final int PAGE = StatusView.NEWEST;
    private static final int NAME_SHOWN = 80;

    private final StatusView view;
    private final Reports reports;
    private final HttpAccess access;
    private final Cluster cluster;
    private volatile SourcesView rehearsals;
    /** The totals and the chart, read from the store at most every few seconds (every viewer's page reads itself every 10 s). */
    private final Fresh<Map<String, Long>> totals = new Fresh<>(AGGREGATES_MILLIS);
    private final Fresh<String> chart = new Fresh<>(AGGREGATES_MILLIS);
    static final long AGGREGATES_MILLIS = 3_000;

    /** A value computed again only when it is older than its lifetime. */
    private static final class Fresh<T> {
        private final long lifetime;
        private T value;
        private long at;

        Fresh(long lifetime) {
            this.lifetime = lifetime;
        }

        synchronized T get(java.util.concurrent.Callable<T> compute) throws Exception {
            long now = System.currentTimeMillis();
            if (value == null || now - at >= lifetime) {
                value = compute.call();
                at = now;
            }
            return value;
        }
    }

    public Overview(StatusView view, Reports reports, HttpAccess access, Cluster cluster) {
        this.view = view;
        this.reports = reports;
        this.access = access;
        this.cluster = cluster;
    }

    /** The rehearsals of sources, shown in their own section when there are any. */
    public Overview rehearsals(SourcesView view) {
        this.rehearsals = view;
        return this;
    }

    /** The totals the page shows at its top, by name: what the page's tiles and {@code GET /totals} say (a few seconds old at most). */
    public Map<String, Long> totals() throws Exception {
        return totals.get(this::readTotals);
    }

    private Map<String, Long> readTotals() throws Exception {
        long now = System.currentTimeMillis();
        Reports.Counts counts = reports.counts(now);
        ZoneId zone = ZoneId.systemDefault();
        LocalDate today = LocalDate.now(zone);
        long midnight = today.atStartOfDay(zone).toInstant().toEpochMilli();
        long monday = today.with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY)).atStartOfDay(zone).toInstant().toEpochMilli();
        long unfinished = 0;
        for (Step s : Step.values()) {
            if (!s.isFinal()) {
                unfinished += counts.in(s);
            }
        }
        Map<String, Long> t = new LinkedHashMap<>();
        t.put("in_flight", unfinished - counts.waiting() - counts.in(Step.HELD));
        t.put("waiting", counts.waiting());
        t.put("held", counts.in(Step.HELD));
        t.put("failed", counts.in(Step.FAILED) + counts.in(Step.RESTORE_FAILED));
        long[] delivered = reports.deliveredSince(midnight, monday);
        t.put("delivered_today", delivered[0]);
        t.put("delivered_this_week", delivered[1]);
        t.put("in_store", counts.perStep().values().stream().mapToLong(Long::longValue).sum());
        for (Step s : Step.values()) {
            t.put("step_" + s.id(), counts.in(s));
        }
        return t;
    }

    public String page(@Header("step") String step, @Header("q") String q, @Header("page") String pageParam) throws Exception {
        long now = System.currentTimeMillis();
        Step only;
        try {
            only = step == null || step.isBlank() ? null : Step.of(step);
        } catch (IllegalArgumentException e) {
            only = null;
        }
        int page = StatusView.pageNumber(pageParam);
        StringBuilder h = Html.start("Odoo Upgrade Courier", true);
        header(h);
        h.append("<main>\n");
        find(h, only, q);
        h.append("<div id=\"live\">\n");
        totals(h, totals());
        List<Map<String, Object>> urgent = reports.needingAPerson(now, WAITING_LONG_MILLIS, 50);
        if (!urgent.isEmpty() && only == null && (q == null || q.isBlank()) && page == 0) {
            h.append("<h2 id=\"need-a-person\">Needs a person (").append(urgent.size() == 50 ? "the newest 50" : urgent.size())
                    .append(")</h2>\n");
            table(h, urgent, now, "urgent");
        }
        h.append("<h2>How long deliveries took, the last 14 days</h2>\n")
                .append(chart.get(() -> Charts.deliveryTimes(reports.deliveries(now - 14 * 86_400_000L, 5_000), now, ZoneId.systemDefault())));
        SourcesView sources = rehearsals;
        if (sources != null && only == null && (q == null || q.isBlank()) && page == 0 && sources.any()) {
            h.append("<h2 id=\"rehearsals\">Rehearsals (<a href=\"sources.html\">all</a>)</h2>\n").append(sources.section());
        }
        Reports.Found found = reports.find(q, only, page * PAGE, PAGE);
        h.append("<h2 id=\"all\">").append(only == null ? "All dumps" : "Dumps in step " + esc(only.id()))
                .append(q == null || q.isBlank() ? "" : " matching “" + esc(q.strip()) + "”").append(", newest first (")
                .append(found.total()).append(")</h2>\n");
        table(h, found.rows(), now, "requests");
        pages(h, found.total(), page, only, q);
        notTaken(h);
        h.append("</div>\n</main>\n");
        return h.append(Html.end(true)).toString();
    }

    private void header(StringBuilder h) throws Exception {
        Map<String, Object> node = cluster.state();
        h.append("<header><h1><a href=\"./\" style=\"color:inherit;text-decoration:none\">Odoo Upgrade Courier</a></h1>")
                .append("<span id=\"node\">Node ").append(esc(node.get("node"))).append(": ")
                .append(cluster.leading() ? "leads (works on the dumps)" : "stands by (another node works on the dumps)")
                .append("</span><span><a href=\"requests\">JSON</a> · <a href=\"observe/health\">health</a> · ")
                .append("<a href=\"observe/metrics\">metrics</a></span></header>\n");
    }

    private static void find(StringBuilder h, Step only, String q) {
        h.append("<form class=\"find\" method=\"get\" action=\"./\"><input type=\"search\" name=\"q\" placeholder=\"Name or request id\" ")
                .append("aria-label=\"Find a dump by name or request id\" value=\"").append(esc(q == null ? "" : q)).append("\">")
                .append("<select name=\"step\" aria-label=\"Step\"><option value=\"\">every step</option>");
        for (Step s : Step.values()) {
            h.append("<option").append(s == only ? " selected" : "").append(">").append(s.id()).append("</option>");
        }
        h.append("</select><button type=\"submit\">Find</button></form>\n");
    }

    private static void totals(StringBuilder h, Map<String, Long> t) {
        h.append("<div class=\"totals\">");
        tile(h, "in-flight", "in flight", t.get("in_flight"), "");
        tile(h, "waiting", "waiting after a fault", t.get("waiting"), t.get("waiting") > 0 ? "warn" : "");
        tile(h, "failed", "failed", t.get("failed"), t.get("failed") > 0 ? "bad" : "");
        if (t.get("held") > 0) {
            tile(h, "held", "held: production waits for a test", t.get("held"), "warn");
        }
        tile(h, "delivered-today", "delivered today", t.get("delivered_today"), "");
        tile(h, "delivered-this-week", "delivered this week", t.get("delivered_this_week"), "");
        h.append("</div>\n<p class=\"sub\" id=\"per-step\">");
        boolean first = true;
        for (Step s : Step.values()) {
            long n = t.get("step_" + s.id());
            if (n > 0) {
                h.append(first ? "" : " · ").append("<a href=\"?step=").append(s.id()).append("\">").append(s.id()).append("</a> ")
                        .append("<b data-step=\"").append(s.id()).append("\">").append(n).append("</b>");
                first = false;
            }
        }
        h.append("</p>\n");
    }

    private static void tile(StringBuilder h, String id, String label, long n, String css) {
        h.append("<div class=\"total ").append(css).append("\" id=\"t-").append(id).append("\"><b>").append(n).append("</b>")
                .append(esc(label)).append("</div>");
    }

    /** The dumps as a table (as cards on a narrow screen); a failed one has its Retry button when actions are allowed. */
    private void table(StringBuilder h, List<Map<String, Object>> rows, long now, String id) throws Exception {
        h.append("<table class=\"dumps\" id=\"").append(id).append("\"><colgroup><col class=\"c-dump\"><col class=\"c-step\"><col class=\"c-when\">")
                .append("<col class=\"c-size\"><col class=\"c-msg\"><col class=\"c-act\"></colgroup>")
                .append("<thead><tr><th>Dump</th><th>Step</th><th>Received</th><th>Size</th><th>What happens</th><th></th></tr></thead><tbody>\n");
        for (Map<String, Object> row : rows) {
            row(h, view.describe(row), now);
        }
        if (rows.isEmpty()) {
            h.append("<tr><td colspan=\"6\">Nothing here. Drop a database dump into the drop folder.</td></tr>\n");
        }
        h.append("</tbody></table>\n");
    }

    private void row(StringBuilder h, Map<String, Object> r, long now) {
        boolean waiting = r.get("waiting") != null;
        String step = String.valueOf(r.get("step"));
        h.append("<tr class=\"").append(esc(waiting ? "waiting" : step)).append("\" data-id=\"").append(esc(r.get("id"))).append("\">")
                .append("<td data-label=\"Dump\"><a href=\"").append(esc(r.get("page"))).append("\">").append(Html.name(r.get("dump"), NAME_SHOWN))
                .append("</a>");
        if (r.get("request_id") != null) {
            h.append("<span class=\"sub\">request ").append(esc(r.get("request_id")))
                    .append(r.get("log") == null ? "" : " · <a href=\"" + esc(r.get("log")) + "\">log</a>").append("</span>");
        }
        h.append("</td><td data-label=\"Step\"><span class=\"step s-").append(esc(waiting ? "waiting" : step)).append("\">")
                .append(esc(waiting ? "waiting" : step)).append("</span>");
        if (r.get("state") != null) {
            h.append("<span class=\"sub\">platform: ").append(esc(r.get("state"))).append("</span>");
        }
        h.append("</td><td data-label=\"Received\">").append(Html.when(r.get("received_millis"), now))
                .append("</td><td data-label=\"Size\">").append(esc(Html.size(r.get("size"))))
                .append("</td><td data-label=\"What happens\">");
        String transfer = StatusView.transfer(r);
        if (!transfer.isEmpty()) {
            h.append("<span class=\"transfer\">").append(esc(transfer)).append("</span> ");
        }
        h.append(whatHappens(r, now));
        if (r.get("elapsed") != null && !Step.of(step).isFinal()) {
            h.append("<span class=\"sub\">on the platform for ").append(esc(r.get("elapsed")))
                    .append(r.get("estimated_time") == null ? "" : ", estimated " + esc(r.get("estimated_time"))).append("</span>");
        }
        if (r.get("what_to_do") != null) {
            h.append("<span class=\"sub\">").append(esc(r.get("what_to_do"))).append("</span>");
        }
        h.append("</td><td>");
        if (access.buttons() && Boolean.TRUE.equals(r.get("retryable"))) {
            h.append("<form method=\"post\" action=\"requests/").append(esc(r.get("id")))
                    .append("/retry\"><button type=\"submit\">Retry</button></form>");
        }
        h.append("</td></tr>\n");
    }

    /** What a dump is doing, as HTML: for one waiting after a fault, its last error and when it is tried next. */
    static String whatHappens(Map<String, Object> r, long now) {
        if (r.get("waiting") != null && r.get("next_attempt_millis") instanceof Number next) {
            return esc("waiting: " + r.get("last_error")) + "<span class=\"sub\">next attempt " + Html.when(next, now) + "</span>";
        }
        return esc(StatusView.message(r));
    }

    private static void pages(StringBuilder h, long total, int page, Step only, String q) {
        long pages = Math.max(1, (total + PAGE - 1) / PAGE);
        if (pages <= 1) {
            return;
        }
        String keep = (only == null ? "" : "&step=" + only.id())
                + (q == null || q.isBlank() ? "" : "&q=" + java.net.URLEncoder.encode(q.strip(), java.nio.charset.StandardCharsets.UTF_8));
        h.append("<nav class=\"pages\" aria-label=\"Pages\">");
        if (page > 0) {
            h.append("<a rel=\"prev\" href=\"?page=").append(page).append(esc(keep)).append("#all\">← newer</a>");
        }
        h.append("<span>page ").append(page + 1).append(" of ").append(pages).append("</span>");
        if (page + 1 < pages) {
            h.append("<a rel=\"next\" href=\"?page=").append(page + 2).append(esc(keep)).append("#all\">older →</a>");
        }
        h.append("</nav>\n");
    }

    private void notTaken(StringBuilder h) throws Exception {
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> notTaken = (List<Map<String, Object>>) view.notTaken().get("not_taken");
        if (!notTaken.isEmpty()) {
            h.append("<h2 id=\"not-taken\">In the drop folder, not taken (<a href=\"drop\">/drop</a>)</h2><ul>");
            for (Map<String, Object> n : notTaken) {
                h.append("<li>").append(Html.name(n.get("name"), NAME_SHOWN)).append(" — ").append(esc(n.get("why"))).append("</li>");
            }
            h.append("</ul>\n");
        }
        if (!access.rule().isEmpty()) {
            h.append("<p id=\"actions\" class=\"sub\">").append(esc(access.rule())).append("</p>\n");
        }
    }
}

package com.odooupgradecourier.service;

import static com.odooupgradecourier.service.Html.esc;

import com.odooupgradecourier.rehearsal.Rehearsals;
import com.odooupgradecourier.rehearsal.Source;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the rehearsals of the configured sources show: per source, its schedule, its last runs (the time of each part, the
 * platform's report, the outcome) and the estimate of a production upgrade from the recent platform times. {@code GET
 * /sources} answers it as JSON, {@code GET /sources.html} as a page; {@link #section()} is the status page's section.
 * Never a password.
 */
public class SourcesView {
    /** Runs shown per source. */
    private static final int RUNS = 10;
    /** Runs the estimate is made from. */
    private static final int RECENT = 5;

    private final Rehearsals rehearsals;

    public SourcesView(Rehearsals rehearsals) {
        this.rehearsals = rehearsals;
    }

    public Map<String, Object> json() throws Exception {
        Map<String, Source> configured = new LinkedHashMap<>();
        rehearsals.sources().forEach(s -> configured.put(s.name(), s));
        List<Map<String, Object>> sources = new ArrayList<>();
        for (Map.Entry<String, List<Map<String, Object>>> e : rehearsals.history(RUNS).entrySet()) {
            Source s = configured.get(e.getKey());
            Map<String, Object> m = new LinkedHashMap<>(s == null ? Map.of("source", e.getKey(), "configured", false) : s.shown());
            m.put("estimate", estimate(e.getValue()));
            m.put("rehearsals", e.getValue());
            sources.add(m);
        }
        return Map.of("sources", sources);
    }

    /**
     * A production upgrade's likely time, from the platform's times of the recent rehearsals that got that far: the median
     * of the upload, the platform's upgrade and the download (seconds), and their sum; null without one.
     */
    static Map<String, Object> estimate(List<Map<String, Object>> runs) {
        List<Map<String, Object>> done = runs.stream().filter(r -> r.get("platform_seconds") != null).limit(RECENT).toList();
        if (done.isEmpty()) {
            return null;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        double total = 0;
        for (String k : List.of("upload_seconds", "platform_seconds", "download_seconds")) {
            double median = median(done.stream().map(r -> r.get(k)).filter(v -> v instanceof Number).map(v -> ((Number) v).doubleValue())
                    .sorted().toList());
            m.put(k, median);
            total += median;
        }
        m.put("total_seconds", Math.round(total * 10) / 10.0);
        m.put("from_rehearsals", done.size());
        return m;
    }

    private static double median(List<Double> sorted) {
        if (sorted.isEmpty()) {
            return 0;
        }
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /** The sources and their rehearsals as a page. */
    public String page() throws Exception {
        return Html.start("Rehearsals — Odoo Upgrade Courier", true)
                .append("<header><h1><a href=\"./\" style=\"color:inherit;text-decoration:none\">Odoo Upgrade Courier</a></h1>")
                .append("<span><a href=\"./\">← every dump</a> · <a href=\"sources\">JSON</a></span></header>\n<main><div id=\"live\">")
                .append("<h2 style=\"font-size:1.25em\">Rehearsals</h2>\n").append(section()).append("</div></main>\n")
                .append(Html.end(true)).toString();
    }

    /** Whether any source is configured or was rehearsed (the status page shows the section then). */
    public boolean any() throws Exception {
        return !((List<?>) json().get("sources")).isEmpty();
    }

    /** The section of the status page: per source, its schedule, the estimate, and its last rehearsals. */
    @SuppressWarnings("unchecked")
    public String section() throws Exception {
        StringBuilder h = new StringBuilder("<section id=\"sources\">\n");
        List<Map<String, Object>> sources = (List<Map<String, Object>>) json().get("sources");
        if (sources.isEmpty()) {
            h.append("<p>No sources are rehearsed (courier.sources).</p>\n");
        }
        for (Map<String, Object> s : sources) {
            h.append("<h2>").append(esc(s.get("source"))).append("</h2>\n<p>");
            if (s.get("schedule") != null) {
                h.append("Database ").append(esc(s.get("database"))).append(" on ").append(esc(s.get("server"))).append(", to ")
                        .append(esc(s.get("target"))).append(" (").append(esc(s.get("aim"))).append("), schedule <code>")
                        .append(esc(s.get("schedule"))).append("</code>, ").append(esc(s.get("keep"))).append(" database(s) kept. ");
            }
            Map<String, Object> est = (Map<String, Object>) s.get("estimate");
            h.append(est == null ? "No estimate yet (no rehearsal reached the platform's end)."
                    : "A production upgrade would take about " + minutes(est.get("total_seconds")) + " (upload " + minutes(est.get("upload_seconds"))
                    + ", platform " + minutes(est.get("platform_seconds")) + ", download " + minutes(est.get("download_seconds"))
                    + "; median of the last " + est.get("from_rehearsals") + ").");
            h.append("</p>\n<div class=\"scroll\"><table class=\"rehearsals\"><thead><tr><th>started</th><th>outcome</th><th>dump</th><th>upload</th><th>platform</th><th>download</th>"
                    + "<th>restore</th><th>total</th><th>report</th><th>database</th></tr></thead><tbody>\n");
            for (Map<String, Object> r : (List<Map<String, Object>>) s.get("rehearsals")) {
                String outcome = String.valueOf(r.get("outcome"));
                h.append("<tr class=\"").append(esc(outcome)).append("\"><td>").append(Html.when(r.get("started_millis"), System.currentTimeMillis())).append("</td><td>")
                        .append(esc(outcome)).append("running".equals(outcome) && r.get("step") != null ? " (" + esc(r.get("step")) + ")" : "")
                        .append(r.get("detail") == null ? "" : ": " + esc(r.get("detail"))).append("</td>");
                for (String k : List.of("dump_seconds", "upload_seconds", "platform_seconds", "download_seconds", "restore_seconds",
                        "total_seconds")) {
                    h.append("<td>").append(r.get(k) == null ? "" : esc(r.get(k)) + " s").append("</td>");
                }
                List<String> headings = (List<String>) r.get("headings");
                h.append("<td>").append(r.get("warnings") == null ? "" : esc(r.get("warnings")) + " warning(s)")
                        .append(headings.isEmpty() ? "" : ": " + esc(String.join("; ", headings))).append("</td><td>")
                        .append(r.get("restored_to") == null ? "" : esc(r.get("restored_to"))
                                + (Boolean.TRUE.equals(r.get("database_dropped")) ? " (dropped)" : ""))
                        .append("</td></tr>\n");
            }
            h.append("</tbody></table></div>\n");
        }
        return h.append("</section>\n").toString();
    }

    private static String minutes(Object seconds) {
        double s = seconds instanceof Number n ? n.doubleValue() : 0;
        return s < 120 ? Math.round(s) + " s" : s < 7200 ? Math.round(s / 60) + " min" : Math.round(s / 360) / 10.0 + " h";
    }
}

package com.odooupgradecourier.service;

import static com.odooupgradecourier.service.Html.esc;

import com.odooupgradecourier.dump.Custody;
import com.odooupgradecourier.store.Reports;
import com.odooupgradecourier.store.Rows;
import com.odooupgradecourier.store.Step;
import com.odooupgradecourier.support.Secrets;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.Header;

/**
 * {@code GET /requests/{id}}: one dump's story. Its journey from {@code dump_events} as bars (one per transition, as long
 * as the dump stayed in the step it led to), the transfer in progress with its rate and time left, every attempt that
 * failed and why, the end of its upgrade log, where its archive, error record and restored database are, and Retry.
 * HTML for a browser, JSON for {@code Accept: application/json}. Never a key, a token or a platform URL.
 */
public class DumpPage {
    private static final int LOG_LINES = 60;

    private final StatusView view;
    private final Rows rows;
    private final Reports reports;
    private final HttpAccess access;
    private final String output;

    /** @param output where archives are delivered (courier.output-uri, its password masked) */
    public DumpPage(StatusView view, Rows rows, Reports reports, HttpAccess access, String output) {
        this.output = output;
        this.view = view;
        this.rows = rows;
        this.reports = reports;
        this.access = access;
    }

    /** The dump as JSON-ready maps; null (404) when the store has no dump of this id. */
    public Map<String, Object> story(@Header("id") String id) throws Exception {
        Map<String, Object> row = id == null ? null : rows.find(id);
        if (row == null || !id.equals(row.get("id"))) {
            return null;
        }
        long now = System.currentTimeMillis();
        Map<String, Object> d = new LinkedHashMap<>(view.describe(row));
        d.remove("status_url");
        String key = rows.requestKey(id);
        List<Reports.Event> journey = reports.journey(id);
        boolean over = Step.of(String.valueOf(row.get("step"))).isFinal();
        List<Map<String, Object>> steps = new ArrayList<>();
        List<Map<String, Object>> attempts = new ArrayList<>();
        for (int i = 0; i < journey.size(); i++) {
            Reports.Event e = journey.get(i);
            Long until = i + 1 < journey.size() ? Long.valueOf(journey.get(i + 1).atMillis()) : over ? null : Long.valueOf(now);
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("transition", e.transition());
            s.put("from", e.from());
            s.put("to", e.to());
            s.put("at", StatusView.time(e.atMillis()));
            s.put("at_millis", e.atMillis());
            s.put("millis", until == null ? null : until - e.atMillis());
            s.put("node", e.node());
            s.put("detail", e.detail() == null ? null : Secrets.mask(e.detail(), key));
            steps.add(s);
            if (e.detail() != null) {
                attempts.add(Map.of("at", StatusView.time(e.atMillis()), "at_millis", e.atMillis(), "transition", e.transition(),
                        "error", Secrets.mask(e.detail(), key)));
            }
        }
        d.put("journey", steps);
        d.put("errors", attempts);
        Map<String, Object> where = new LinkedHashMap<>();
        where.put("archive", row.get("delivered_to") == null ? null : output + (output.endsWith("/") ? "" : "/") + row.get("delivered_to"));
        where.put("error_record", errorRecord(row));
        where.put("restored_to", d.get("restored_to"));
        where.put("filestore", row.get("filestore_path"));
        d.put("where", where);
        d.put("log_tail", logTail(id, key));
        d.put("report", row.get("report_warnings") == null ? null : Map.of("warnings", row.get("report_warnings"), "headings",
                row.get("report_headings") == null || String.valueOf(row.get("report_headings")).isEmpty() ? List.of()
                        : List.of(String.valueOf(row.get("report_headings")).split("\n"))));
        return d;
    }

    private static String errorRecord(Map<String, Object> row) {
        if ("failed".equals(row.get("step")) && row.get("path") instanceof String p && !p.isEmpty()) {
            Path record = Custody.record(Path.of(p));
            return Files.isRegularFile(record, LinkOption.NOFOLLOW_LINKS) ? record.toString() : null;
        }
        return null;
    }

    private String logTail(String id, String key) throws java.io.IOException {
        Path log = view.logOf(id);
        if (log == null) {
            return null;
        }
        List<String> lines = new ArrayList<>();
        try (var all = Files.lines(log, StandardCharsets.UTF_8)) {
            all.forEach(l -> {
                lines.add(l);
                if (lines.size() > LOG_LINES) {
                    lines.remove(0);
                }
            });
        }
        return Secrets.mask(String.join("\n", lines), key);
    }

    /** {@code GET /requests/{id}}: JSON or HTML as the caller accepts; 404 with a sentence when there is no such dump. */
    public Object answer(Exchange exchange, @Header("id") String id, @Header("Accept") String accept, @Header("format") String format)
            throws Exception {
        Map<String, Object> story = story(id);
        boolean json = "json".equals(format) || accept != null && accept.contains("application/json") && !accept.contains("text/html");
        if (story == null) {
            exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, 404);
            exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, json ? "application/json" : "text/plain; charset=utf-8");
            return json ? Map.of("error", "no dump with this id") : "no dump with this id\n";
        }
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, json ? "application/json" : "text/html; charset=utf-8");
        return json ? story : html(story);
    }

    @SuppressWarnings("unchecked")
    String html(Map<String, Object> d) {
        long now = System.currentTimeMillis();
        String step = String.valueOf(d.get("step"));
        StringBuilder h = Html.start(d.get("dump") + " — Odoo Upgrade Courier", !Step.of(step).isFinal());
        h.append("<header><h1><a href=\"../\" style=\"color:inherit;text-decoration:none\">Odoo Upgrade Courier</a></h1>")
                .append("<span><a href=\"../\">← every dump</a> · <a href=\"").append(esc(d.get("id"))).append("?format=json\">JSON</a></span>")
                .append("</header>\n<main><div id=\"live\">\n<h2 class=\"name\" style=\"font-size:1.25em\">").append(esc(d.get("dump")))
                .append("</h2>\n<dl class=\"facts\">");
        fact(h, "Step", "<span class=\"step s-" + esc(d.get("waiting") != null ? "waiting" : step) + "\">" + esc(step)
                + (d.get("waiting") != null ? ", waiting" : "") + "</span>" + (d.get("state") == null ? "" : " · platform: " + esc(d.get("state"))));
        fact(h, "What happens", Overview.whatHappens(d, now));
        if (d.get("what_to_do") != null) {
            fact(h, "What to do", esc(d.get("what_to_do")));
        }
        String transfer = StatusView.transfer(d);
        if (!transfer.isEmpty()) {
            Map<String, Object> t = (Map<String, Object>) d.get("transfer");
            int percent = t.get("percent") instanceof Number n ? n.intValue() : 0;
            fact(h, "Transfer", "<progress max=\"100\" value=\"" + percent + "\"></progress> " + esc(transfer));
        }
        fact(h, "Received", Html.when(d.get("received_millis"), now));
        fact(h, "Request", d.get("request_id") == null ? "none yet" : esc(d.get("request_id")) + (d.get("target") == null ? ""
                : " · target " + esc(d.get("target"))) + (d.get("aim") == null ? "" : " · " + esc(d.get("aim"))));
        fact(h, "Size", esc(Html.size(d.get("size"))) + (d.get("sha256") == null ? "" : " · sha256 " + esc(d.get("sha256"))));
        if (d.get("elapsed") != null) {
            fact(h, "On the platform", esc(d.get("elapsed")) + (d.get("estimated_time") == null ? "" : ", estimated " + esc(d.get("estimated_time"))));
        }
        Map<String, Object> where = (Map<String, Object>) d.get("where");
        where.forEach((what, place) -> {
            if (place != null) {
                String term = what.replace('_', ' ');
                fact(h, Character.toUpperCase(term.charAt(0)) + term.substring(1), esc(place));
            }
        });
        if (d.get("report") instanceof Map<?, ?> report) {
            List<String> headings = (List<String>) report.get("headings");
            fact(h, "Upgrade report", esc(report.get("warnings") + " warning(s)" + (headings.isEmpty() ? "" : ": " + String.join("; ", headings))));
        }
        fact(h, "Attempts", esc(d.get("attempts")));
        h.append("</dl>\n");
        if (access.buttons() && Boolean.TRUE.equals(d.get("retryable"))) {
            h.append("<form method=\"post\" action=\"").append(esc(d.get("id"))).append("/retry\" style=\"margin:.8em 0\">")
                    .append("<button type=\"submit\">Retry</button> takes it up again at the step it failed at.</form>\n");
        }
        timeline(h, (List<Map<String, Object>>) d.get("journey"), now);
        List<Map<String, Object>> errors = (List<Map<String, Object>>) d.get("errors");
        if (!errors.isEmpty()) {
            h.append("<h2>Attempts that failed, and why (").append(errors.size()).append(")</h2>\n<table class=\"dumps\" id=\"errors\"><tbody>");
            for (Map<String, Object> e : errors) {
                h.append("<tr><td style=\"width:14em\">").append(Html.when(e.get("at_millis"), now)).append("</td><td style=\"width:9em\">")
                        .append(esc(e.get("transition"))).append("</td><td>").append(esc(e.get("error"))).append("</td></tr>");
            }
            h.append("</tbody></table>\n");
        }
        if (d.get("log_tail") != null) {
            h.append("<h2>Upgrade log, the last lines (<a href=\"").append(esc(d.get("id"))).append("/log\">all of it</a>)</h2><pre id=\"log\">")
                    .append(esc(d.get("log_tail"))).append("</pre>\n");
        }
        h.append("</div></main>\n");
        return h.append(Html.end(!Step.of(step).isFinal())).toString();
    }

    private static void fact(StringBuilder h, String term, String html) {
        h.append("<dt>").append(esc(term)).append("</dt><dd>").append(html).append("</dd>");
    }

    /** One bar per transition, placed on one time axis from the first transition to the last (or to now, when not over). */
    private static void timeline(StringBuilder h, List<Map<String, Object>> journey, long now) {
        h.append("<h2>Journey (").append(journey.size()).append(" transitions)</h2>\n");
        if (journey.isEmpty()) {
            h.append("<p class=\"sub\">No transitions recorded.</p>\n");
            return;
        }
        long start = ((Number) journey.get(0).get("at_millis")).longValue();
        Map<String, Object> last = journey.get(journey.size() - 1);
        long end = ((Number) last.get("at_millis")).longValue() + (last.get("millis") instanceof Number n ? n.longValue() : 0);
        double span = Math.max(1, end - start);
        h.append("<table class=\"timeline\" id=\"timeline\"><colgroup><col style=\"width:11em\"><col style=\"width:9em\"><col style=\"width:7em\">")
                .append("<col></colgroup><thead><tr><th>Transition</th><th>At</th><th>Then for</th><th></th></tr></thead><tbody>\n");
        for (Map<String, Object> e : journey) {
            long at = ((Number) e.get("at_millis")).longValue();
            long millis = e.get("millis") instanceof Number n ? n.longValue() : 0;
            String css = "parked".equals(e.get("transition")) ? "parked" : String.valueOf(e.get("to"));
            h.append("<tr><td data-label=\"Transition\">").append(esc(e.get("transition"))).append(" <span class=\"sub\">→ ")
                    .append(esc(e.get("to"))).append("</span></td><td data-label=\"At\"><time datetime=\"").append(esc(e.get("at")))
                    .append("\" title=\"").append(esc(Html.local(at))).append("\">").append(at == start ? "start" : "+" + esc(Html.duration(at - start))).append("</time></td><td data-label=\"Then for\">")
                    .append(e.get("millis") == null ? "—" : esc(Html.duration(millis))).append("</td><td class=\"bar\">")
                    .append(String.format(java.util.Locale.ROOT, "<span class=\"s-%s\" style=\"margin-left:%.2f%%;width:%.2f%%\" title=\"%s\"></span>",
                            esc(css), 100 * (at - start) / span, Math.min(100 - 100 * (at - start) / span, 100 * millis / span),
                            esc(e.get("transition") + (e.get("detail") == null ? "" : ": " + e.get("detail")))))
                    .append("</td></tr>\n");
        }
        h.append("</tbody></table>\n");
    }
}

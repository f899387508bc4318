package com.odooupgradecourier.service;

import com.odooupgradecourier.support.Secrets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.camel.Body;

/**
 * What the status API and page show of each dump: its step, the platform's state and times, transfer
 * progress, customer_message and the masked status URL. Never the key.
 */
public class StatusView {
    private final Progress progress;

    public StatusView(Progress progress) {
        this.progress = progress;
    }

    public List<Map<String, Object>> requests(@Body List<Map<String, Object>> rows) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> row : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("dump", row.get("file_name"));
            m.put("size", row.get("size"));
            m.put("sha256", row.get("sha256"));
            m.put("request_id", row.get("request_id"));
            m.put("target", row.get("target"));
            m.put("aim", row.get("aim"));
            m.put("step", row.get("step"));
            m.put("state", row.get("state"));
            m.put("elapsed", row.get("elapsed"));
            m.put("estimated_time", row.get("estimated_time"));
            m.put("transfer", progress.of(String.valueOf(row.get("id"))));
            m.put("customer_message", row.get("customer_message"));
            m.put("status_url", Secrets.maskUrl((String) row.get("status_url")));
            m.put("last_error", row.get("last_error"));
            m.put("waiting", waiting(row));
            m.put("next_attempt_at", row.get("next_attempt_at") == null || isFinal(row) ? null : time((Number) row.get("next_attempt_at")));
            m.put("attempts", row.get("attempts"));
            m.put("received_at", String.valueOf(row.get("created_at")));
            m.put("updated_at", String.valueOf(row.get("updated_at")));
            out.add(m);
        }
        return out;
    }

    /** A dump parked after a fault that may pass: "waiting: <last error>, next attempt at <time>"; otherwise null. */
    static String waiting(Map<String, Object> row) {
        Object next = row.get("next_attempt_at");
        if (isFinal(row) || row.get("last_error") == null || !(next instanceof Number n) || n.longValue() <= System.currentTimeMillis()) {
            return null;
        }
        return "waiting: " + row.get("last_error") + ", next attempt at " + time(n);
    }

    private static boolean isFinal(Map<String, Object> row) {
        return "delivered".equals(row.get("step")) || "failed".equals(row.get("step"));
    }

    private static String time(Number millis) {
        return java.time.Instant.ofEpochMilli(millis.longValue()).truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
    }

    /** The same table as a small HTML page that refreshes itself (no JavaScript). */
    public String page(@Body List<Map<String, Object>> rows) {
        StringBuilder h = new StringBuilder("""
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
                <title>Odoo Upgrade Courier</title>
                <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}
                td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}th{background:#eee}
                .failed{background:#fdd}.delivered{background:#dfd}</style></head><body>
                <h1>Odoo Upgrade Courier</h1>
                <p>Dumps and their upgrade requests, newest first. This page refreshes every 5 seconds;
                the same data as JSON: <a href="requests">/requests</a>.</p>
                <table id="requests"><thead><tr><th>Dump</th><th>Request</th><th>Step</th><th>Platform state</th>
                <th>Elapsed / estimated</th><th>Transfer</th><th>Message</th></tr></thead><tbody>
                """);
        for (Map<String, Object> r : requests(rows)) {
            @SuppressWarnings("unchecked")
            Map<String, Object> t = (Map<String, Object>) r.get("transfer");
            String transfer = t.isEmpty() ? "" : t.get("direction") + " " + t.get("percent") + "%";
            String message = r.get("customer_message") != null ? String.valueOf(r.get("customer_message"))
                    : r.get("waiting") != null ? String.valueOf(r.get("waiting"))
                    : r.get("last_error") != null ? String.valueOf(r.get("last_error")) : "";
            h.append("<tr class=\"").append(esc(r.get("step"))).append("\"><td>").append(esc(r.get("dump")))
                    .append("</td><td>").append(r.get("status_url") == null ? esc(r.get("request_id"))
                            : "<a href=\"" + esc(r.get("status_url")) + "\">" + esc(r.get("request_id")) + "</a>")
                    .append("</td><td>").append(esc(r.get("step"))).append("</td><td>").append(esc(r.get("state")))
                    .append("</td><td>").append(esc(r.get("elapsed"))).append(" / ").append(esc(r.get("estimated_time")))
                    .append("</td><td>").append(esc(transfer)).append("</td><td>").append(esc(message)).append("</td></tr>\n");
        }
        if (rows.isEmpty()) {
            h.append("<tr><td colspan=\"7\">Nothing yet: drop a database dump into the drop folder.</td></tr>\n");
        }
        return h.append("</tbody></table></body></html>\n").toString();
    }

    private static String esc(Object o) {
        if (o == null) {
            return "";
        }
        return String.valueOf(o).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}

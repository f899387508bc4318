package com.odooupgradecourier.service;

import com.odooupgradecourier.transfer.Progress;

import com.odooupgradecourier.store.Rows;
import com.odooupgradecourier.store.Step;
import com.odooupgradecourier.support.Secrets;
import java.sql.Connection;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.camel.Header;

/**
 * What the status API and page show of the newest dumps (200 at most, optionally of one step): step, request
 * id, the platform's state and times, size, transfer progress, customer_message, why a dump waits and when it
 * is tried next, what to do about a failed one. Never the key, and no link to a platform URL (those carry it).
 */
public class StatusView {
    static final int NEWEST = 200;
    private final Rows rows;
    private final com.odooupgradecourier.store.Reports reports;
    private final Progress progress;

    private final java.nio.file.Path logsDir;
    private volatile java.nio.file.Path dropDir;

    /** @param logsDir where upgrade logs are kept ({@code <dump id>.log}) */
    public StatusView(Rows rows, com.odooupgradecourier.store.Reports reports, Progress progress, java.nio.file.Path logsDir) {
        this.logsDir = logsDir;
        this.rows = rows;
        this.reports = reports;
        this.progress = progress;
    }

    /** The drop folder, whose files the service will not take are listed ({@link #notTaken}). */
    public StatusView dropFolder(java.nio.file.Path drop) {
        this.dropDir = drop;
        return this;
    }

    /**
     * {@code GET /drop}: what lies in the drop folder that the service will not take, and why: files in subfolders (only
     * the drop folder itself is watched) and special files. Hidden and temporary files are left alone by design.
     */
    public Map<String, Object> notTaken() throws java.io.IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        java.nio.file.Path drop = dropDir;
        if (drop != null && java.nio.file.Files.isDirectory(drop)) {
            try (var entries = java.nio.file.Files.list(drop)) {
                for (java.nio.file.Path e : entries.sorted().limit(1000).toList()) {
                    String name = e.getFileName().toString();
                    if (name.equals(".courier")) {
                        continue;
                    }
                    if (java.nio.file.Files.isDirectory(e, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                        long files;
                        try (var walk = java.nio.file.Files.walk(e, 4)) {
                            files = walk.limit(10_000).filter(f -> java.nio.file.Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS))
                                    .count();
                        } catch (java.io.IOException | java.io.UncheckedIOException unreadable) {
                            files = -1;
                        }
                        out.add(Map.of("name", name + "/", "why", (files < 0 ? "a subfolder" : "a subfolder with " + files + " file(s)")
                                + ": only files in the drop folder itself are taken; move them there"));
                    } else if (java.nio.file.Files.isSymbolicLink(e) && !java.nio.file.Files.exists(e)) {
                        out.add(Map.of("name", name, "why", "a link to a file that is not there: it is not taken; drop the dump "
                                + "itself"));
                    } else if (!java.nio.file.Files.isRegularFile(e, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                            && !java.nio.file.Files.isSymbolicLink(e)) {
                        out.add(Map.of("name", name, "why", "not a plain file (a pipe, socket or device): it is not taken"));
                    }
                }
            }
        }
        return Map.of("drop_folder", drop == null ? "" : drop.toString(), "not_taken", out);
    }

    /**
     * {@code GET /requests[?step=…][&q=…][&page=…]}: the newest dumps as JSON-ready maps, 200 a page; {@code q} finds a
     * name (a part of it) or a request id.
     */
    public List<Map<String, Object>> requests(@Header("step") String step, @Header("q") String q, @Header("page") String page)
            throws Exception {
        Step only;
        try {
            only = step == null || step.isBlank() ? null : Step.of(step);
        } catch (IllegalArgumentException e) {
            return List.of();
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> row : reports.find(q, only, pageNumber(page) * NEWEST, NEWEST).rows()) {
            out.add(describe(row));
        }
        return out;
    }

    /** The page number asked for (0 for the first, or for anything that is not a small number). */
    static int pageNumber(String page) {
        return page != null && page.matches("\\d{1,5}") ? Math.max(0, Integer.parseInt(page) - 1) : 0;
    }

    /** A dump's row as the API and the pages show it: never the key, no platform URL but masked. */
    Map<String, Object> describe(Map<String, Object> row) throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", row.get("id"));
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
        m.put("what_to_do", row.get("what_to_do"));
        m.put("delivered_to", row.get("delivered_to"));
        // a failed dump can be retried while its file is still where the service put it
        // (a failed restore is restored again from the archive the courier keeps for it)
        // (a failed restore is restored again from the archive the courier keeps for it; a held one is let through)
        m.put("retryable", "restore-failed".equals(row.get("step")) || "held".equals(row.get("step")) || "failed".equals(row.get("step")) && row.get("path") instanceof String p
                && java.nio.file.Files.exists(java.nio.file.Path.of(p), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        // the database a restore made: a failed restore's was dropped (the name stays in the store for its clean-up)
        m.put("restored_to", "delivered".equals(row.get("step")) ? row.get("restored_to") : null);
        m.put("filestore", row.get("filestore_path"));
        m.put("missing_attachments", row.get("missing_attachments"));
        m.put("neutralized", row.get("neutralized"));
        m.put("pg_compatible", row.get("pg_compatible") == null ? null : Boolean.valueOf(String.valueOf(row.get("pg_compatible"))));
        m.put("log", logOf(String.valueOf(row.get("id"))) == null ? null : "requests/" + row.get("id") + "/log");
        m.put("attempts", row.get("attempts"));
        m.put("received_at", row.get("received_millis") instanceof Number n ? time(n) : String.valueOf(row.get("created_at")));
        m.put("updated_at", String.valueOf(row.get("updated_at")));
        m.put("received_millis", row.get("received_millis"));
        m.put("next_attempt_millis", m.get("next_attempt_at") == null ? null : row.get("next_attempt_at"));
        m.put("page", "requests/" + row.get("id"));
        return m;
    }

    java.nio.file.Path logOf(String id) {
        if (logsDir == null || !id.matches("[A-Za-z0-9_-]+")) {
            return null;
        }
        java.nio.file.Path log = logsDir.resolve(id + ".log");
        return java.nio.file.Files.isRegularFile(log, java.nio.file.LinkOption.NOFOLLOW_LINKS) ? log : null;
    }

    /**
     * {@code GET /requests/{id}/log}: the upgrade log of a dump as read so far (upgrade.api = jsonrpc), its token masked;
     * null (404) when there is none.
     */
    public String log(@Header("id") String id) throws Exception {
        java.nio.file.Path log = id == null ? null : logOf(id);
        if (log == null) {
            return null;
        }
        return Secrets.mask(java.nio.file.Files.readString(log, java.nio.charset.StandardCharsets.UTF_8), rows.requestKey(id));
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
        return row.get("step") instanceof String step && Step.of(step).isFinal();
    }

    static String time(Number millis) {
        return Instant.ofEpochMilli(millis.longValue()).truncatedTo(ChronoUnit.SECONDS).toString();
    }

    /** What a person reads first about a dump in its list: why it waits, what failed, where it was restored, or the platform's message. */
    static String message(Map<String, Object> r) {
        return r.get("waiting") != null ? String.valueOf(r.get("waiting"))
                : "restore-failed".equals(r.get("step")) ? String.valueOf(r.get("last_error"))
                : "delivered".equals(r.get("step")) && r.get("restored_to") != null ? restored(r)
                : Boolean.FALSE.equals(r.get("pg_compatible")) && !"failed".equals(r.get("step"))
                ? "the platform says the upgraded database may not restore on this PostgreSQL (is_pg_version_compatible = false)"
                : r.get("customer_message") != null ? String.valueOf(r.get("customer_message"))
                : r.get("last_error") != null ? String.valueOf(r.get("last_error"))
                : "delivered".equals(r.get("step")) && r.get("delivered_to") != null ? "delivered as " + r.get("delivered_to")
                : r.get("step") instanceof String step ? STEP_SAYS.getOrDefault(step, "") : "";
    }

    /** What a dump in each unfinished step is doing, in a few words, for a dump with nothing else to say. */
    private static final Map<String, String> STEP_SAYS = Map.of(
            "received", "taken from the drop folder; being inspected",
            "admitted", "inspected; the platform's request is made next",
            "created", "the platform's request exists; the upload starts next",
            "uploading", "being uploaded to the platform",
            "uploaded", "on the platform; it is asked to upgrade it next",
            "processing", "the platform is upgrading it",
            "done", "upgraded; the archive is downloaded next",
            "downloading", "the upgraded archive is being downloaded",
            "downloaded", "downloaded; delivered next",
            "restoring", "delivered; being restored into PostgreSQL");

    /** The transfer of a dump in progress, in a few words ("upload 42%, 3.1 MB/s, 0:12 left"), or "". */
    static String transfer(Map<String, Object> r) {
        @SuppressWarnings("unchecked")
        Map<String, Object> t = (Map<String, Object>) r.get("transfer");
        if (t == null || t.isEmpty()) {
            return "";
        }
        String rate = t.get("bytes_per_second") instanceof Number n ? ", " + Progress.human(n.longValue()) + "/s" : "";
        return t.get("percent") != null ? t.get("direction") + " " + t.get("percent") + "%" + rate
                + (t.get("time_left") != null ? ", " + t.get("time_left") + " left" : "")
                : t.get("direction") + " " + Html.size(t.get("bytes")) + rate;
    }

    /** Where a restored dump's database and filestore are, what it misses, who neutralized it. */
    private static String restored(Map<String, Object> r) {
        StringBuilder s = new StringBuilder("restored to the database ").append(r.get("restored_to"));
        if (r.get("filestore") != null) {
            s.append(", filestore ").append(r.get("filestore"));
        }
        if (r.get("missing_attachments") instanceof Number n && n.longValue() > 0) {
            s.append("; ").append(n).append(" attachment(s) the database names are not in its filestore");
        }
        if ("courier".equals(r.get("neutralized"))) {
            s.append("; neutralized by the courier (the platform had not)");
        } else if ("platform".equals(r.get("neutralized"))) {
            s.append("; neutralized by the platform");
        }
        return s.toString();
    }
}

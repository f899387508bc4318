package com.odooupgradecourier.rehearsal;

import com.odooupgradecourier.restore.Restorer;
import com.odooupgradecourier.store.Rows;
import com.odooupgradecourier.store.Step;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;
import javax.sql.DataSource;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rehearsals of the configured sources, each a row of {@code rehearsals}: begun when the schedule fires (one at a time
 * per source, each scheduled fire once — the table refuses a second), its dump handed to the queue like a dropped one (aim
 * {@code test}, in custody, with a settings file of its own), and settled once that dump's journey ended: the times of its
 * steps (read from its events), the platform's report, the outcome, and the rehearsal databases of the source beyond its
 * kept count dropped (only ones the courier made for that source, as the store and the database's own mark say).
 */
public class Rehearsals {
    private static final Logger LOG = LoggerFactory.getLogger("courier");
    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyyMMdd", Locale.ROOT);
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT);
    private static final String FINAL = Step.sqlList(Step::isFinal);

    private final DataSource store;
    private final Map<String, Source> sources = new LinkedHashMap<>();
    private final Restorer restorer;
    private final Path dumpsDir;
    private final String node;
    private final long dumpLimitMillis;
    private final LongSupplier clock;
    private final MeterRegistry meters;
    private final ZoneId zone = ZoneId.systemDefault();

    public Rehearsals(DataSource store, List<Source> sources, Restorer restorer, Path dumpsDir, String node, Duration dumpLimit,
                      MeterRegistry meters, LongSupplier clock) {
        this.store = store;
        sources.forEach(s -> this.sources.put(s.name(), s));
        this.restorer = restorer;
        this.dumpsDir = dumpsDir;
        this.node = node;
        this.dumpLimitMillis = dumpLimit.toMillis();
        this.meters = meters;
        this.clock = clock;
        for (Source s : sources) {
            timer(s.name());
            for (String outcome : OUTCOMES) {
                counter(s.name(), outcome);
            }
        }
    }

    /** How a rehearsal can end: each is counted from the start (at 0), so dashboards and alerts see every one. */
    private static final List<String> OUTCOMES = List.of("restored", "delivered", "restore-failed", "failed", "dump-failed",
            "source-unreachable", "interrupted");

    public List<Source> sources() {
        return List.copyOf(sources.values());
    }

    /** {@code courier_rehearsal_seconds{source}}: how long the rehearsals of a source took, from the fire to the end. */
    private Timer timer(String source) {
        return Timer.builder("courier.rehearsal").tag("source", source)
                .description("rehearsals of a source, from the schedule's fire to delivery (and restore)").register(meters);
    }

    /**
     * The schedule fired for the source {@code source} at {@code scheduledMillis}: a rehearsal begins, unless the last one of
     * that source still runs or this fire was rehearsed already (by another node, or a catch-up). Sets {@code rehearsalId},
     * {@code dumpId}, {@code fileName}, {@code rehearsalSource}; or {@code rehearsalSkipped}, why not.
     */
    public void begin(Exchange exchange) throws SQLException {
        String name = exchange.getProperty("source", String.class);
        Source source = sources.get(name);
        long now = clock.getAsLong();
        Long scheduled = exchange.getProperty("scheduledMillis", Long.class);
        long fire = scheduled == null || scheduled <= 0 ? now : scheduled;
        String id = "rh-" + HexFormat.of().formatHex(randomBytes());
        try (Connection c = store.getConnection()) {
            List<Map<String, Object>> running = Rows.query(c, "select r.started_millis, d.step from rehearsals r left join dumps d "
                    + "on d.id = r.dump_id where r.source = ? and r.outcome is null", 1, name);
            if (!running.isEmpty()) {
                Object step = running.get(0).get("step");
                exchange.setProperty("rehearsalSkipped", "the rehearsal begun at " + time(running.get(0).get("started_millis"))
                        + " still runs (" + (step == null ? "dumping the database" : "step " + step) + ")");
                return;
            }
            try {
                Rows.update(c, "insert into rehearsals (id, source, scheduled_millis, started_millis, node, dump_id) values (?, ?, ?, ?, ?, ?)",
                        id, name, fire, now, node, id);
            } catch (SQLException e) {
                if (Rows.isUniqueViolation(e)) {
                    exchange.setProperty("rehearsalSkipped", "the fire of " + time(fire) + " was rehearsed already (or another one of "
                            + name + " just began)");
                    return;
                }
                throw e;
            }
        }
        String fileName = name + "-" + STAMP.format(Instant.ofEpochMilli(now).atZone(zone)) + (source.filestore() == null ? ".dump" : ".zip");
        exchange.setProperty("rehearsalId", id);
        exchange.setProperty("dumpId", id);
        exchange.setProperty("fileName", fileName);
        exchange.setProperty("rehearsalSource", source);
        exchange.setProperty("startedMillis", now);
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[8];
        new java.security.SecureRandom().nextBytes(b);
        return b;
    }

    /**
     * The rehearsal's settings file beside its dump in custody, read at admission like a dropped dump's: the source, its
     * target and contract, its aim, and the database it is restored as ({@code <database>_test_<target>_<yyyymmdd>}).
     * Written before the dump, so a dump whose recording a crash cut short is taken up with its settings.
     */
    public void writeSettings(Exchange exchange) throws IOException {
        Source s = exchange.getProperty("rehearsalSource", Source.class);
        Path folder = Files.createDirectories(dumpsDir.resolve(exchange.getProperty("dumpId", String.class)));
        Files.setPosixFilePermissions(folder, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        String day = DAY.format(Instant.ofEpochMilli(exchange.getProperty("startedMillis", Long.class)).atZone(zone));
        StringBuilder p = new StringBuilder("# written by the courier for a rehearsal of the source " + s.name() + "\n");
        p.append("source = ").append(s.name()).append('\n');
        p.append("aim = ").append(s.aim()).append('\n');
        p.append("target = ").append(s.target()).append('\n');
        if (!s.contract().isEmpty()) {
            p.append("contract = ").append(s.contract()).append('\n');
        }
        p.append("restore-name = ").append(restoreName(s, day)).append('\n');
        p.append("source-database = ").append(s.database()).append('\n');
        if (s.productionWithoutTest()) {
            p.append("production-without-test = true\n");
        }
        Path sidecar = folder.resolve(exchange.getProperty("fileName", String.class) + ".properties");
        Files.writeString(sidecar, p.toString(), StandardCharsets.UTF_8);
    }

    /** {@code <database>_<aim>_<target>_<yyyymmdd>}, e.g. {@code acme_test_17_0_20250301}, cut to fit PostgreSQL's names. */
    static String restoreName(Source s, String day) {
        String db = s.database().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        if (!Character.isLetter(db.charAt(0)) && db.charAt(0) != '_') {
            db = "db_" + db;
        }
        String tail = "_" + s.aim() + "_" + s.target().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "_") + "_" + day;
        return db.substring(0, Math.min(db.length(), 60 - tail.length())) + tail;
    }

    /** The dump is complete in custody: it goes to the queue next. */
    public void dumped(@ExchangeProperty("rehearsalId") String id) throws SQLException {
        long now = clock.getAsLong();
        try (Connection c = store.getConnection()) {
            Rows.update(c, "update rehearsals set dumped_millis = ?, dump_seconds = (? - started_millis) / 1000.0 where id = ?", now, now, id);
        }
    }

    /** The dump could not be made: the rehearsal ends here (the next fire tries again); nothing is left in custody. */
    public void dumpFailed(@ExchangeProperty("rehearsalId") String id, @ExchangeProperty("lastError") String error,
                           @ExchangeProperty("outcome") String outcome) throws SQLException {
        if (id == null) {
            return;
        }
        try {
            // nothing of it stays in custody (its settings file): a folder left there would be taken for a dump the store lost
            com.odooupgradecourier.support.Moves.deleteTree(dumpsDir.resolve(id));
        } catch (IOException e) {
            LOG.warn("{}: what the failed rehearsal left in custody could not be removed: {}", id, e.getMessage());
        }
        long now = clock.getAsLong();
        try (Connection c = store.getConnection()) {
            List<Map<String, Object>> run = Rows.query(c, "select source from rehearsals where id = ? and outcome is null", 1, id);
            if (Rows.update(c, "update rehearsals set outcome = ?, detail = ?, finished_millis = ? where id = ? and outcome is null",
                    outcome == null ? "dump-failed" : outcome, error, now, id) == 1 && !run.isEmpty()) {
                ended((String) run.get(0).get("source"), outcome == null ? "dump-failed" : outcome);
            }
        }
    }

    /**
     * {@code courier_rehearsals_total{source, outcome}}: every rehearsal that ended, by how (restored, delivered, failed,
     * dump-failed, source-unreachable, interrupted …): a source that fails every night is seen (deploy/prometheus alerts).
     */
    private void ended(String source, String outcome) {
        counter(source, outcome).increment();
    }

    private io.micrometer.core.instrument.Counter counter(String source, String outcome) {
        return io.micrometer.core.instrument.Counter.builder("courier.rehearsals").tag("source", source).tag("outcome", outcome)
                .description("rehearsals that ended, by outcome").register(meters);
    }

    /**
     * What the platform's report (the notes) of a delivered dump says: its warnings and headings, kept with the dump (its
     * page shows them) and, for a rehearsal, in its history.
     */
    public void report(@ExchangeProperty("dumpId") String dumpId, @ExchangeProperty("notesPath") String notesPath) throws SQLException {
        if (dumpId == null || notesPath == null || !Files.isRegularFile(Path.of(notesPath))) {
            return;
        }
        UpgradeReport r;
        try {
            r = UpgradeReport.read(Path.of(notesPath));
        } catch (IOException e) {
            LOG.warn("{}: the upgrade report could not be read: {}", dumpId, e.getMessage());
            return;
        }
        try (Connection c = store.getConnection()) {
            Rows.update(c, "update dumps set report_warnings = ?, report_headings = ? where id = ?", r.warnings(),
                    String.join("\n", r.headings()), dumpId);
            if (dumpId.startsWith("rh-")) {
                Rows.update(c, "update rehearsals set warnings = ?, headings = ? where dump_id = ?", r.warnings(),
                        String.join("\n", r.headings()), dumpId);
            }
        }
    }

    /**
     * Every rehearsal whose dump ended its journey is settled (one node does it: a guarded update), its times recorded and
     * measured, and the rehearsal databases of its source beyond the kept count dropped. A rehearsal whose dump was never
     * recorded (its node stopped while dumping) ends as {@code interrupted} once its node's heartbeat in the store ran out
     * (another node then rehearses the next fire at once, not hours later), or a dump could no longer be running.
     *
     * @return the rehearsals settled now
     */
    public List<Map<String, Object>> settle() throws SQLException {
        List<Map<String, Object>> settled = new ArrayList<>();
        long now = clock.getAsLong();
        List<Map<String, Object>> open;
        try (Connection c = store.getConnection()) {
            open = Rows.query(c, "select r.*, d.step, d.restored_to as dump_restored_to, d.last_error, d.file_name, "
                    + "(select n.heartbeat_until from nodes n where n.node_id = r.node) as node_until from rehearsals r "
                    + "left join dumps d on d.id = r.dump_id where r.outcome is null", 1000);
        }
        for (Map<String, Object> r : open) {
            String step = (String) r.get("step");
            if (step == null) {
                // its node is gone (its heartbeat in the store ran out: killed, its host lost), or a dump could no longer run
                boolean nodeGone = !(r.get("node_until") instanceof Number until) || until.longValue() < now;
                if (nodeGone || now - ((Number) r.get("started_millis")).longValue() > dumpLimitMillis + 60_000) {
                    finish(r, "interrupted", "the node " + r.get("node") + " stopped while it dumped the database", Map.of(), now);
                }
                continue;
            }
            if (!Step.of(step).isFinal()) {
                continue;
            }
            String outcome = switch (Step.of(step)) {
                case DELIVERED -> r.get("dump_restored_to") != null ? "restored" : "delivered";
                case RESTORE_FAILED -> "restore-failed";
                default -> "failed";
            };
            Map<String, Object> times = times((String) r.get("dump_id"));
            if (finish(r, outcome, "delivered".equals(outcome) || "restored".equals(outcome) ? null : (String) r.get("last_error"),
                    times, now)) {
                Map<String, Object> done = new LinkedHashMap<>(r);
                done.put("outcome", outcome);
                done.putAll(times);
                settled.add(done);
                long total = ((Number) times.getOrDefault("finished_millis", now)).longValue() - ((Number) r.get("started_millis")).longValue();
                timer((String) r.get("source")).record(Duration.ofMillis(Math.max(0, total)));
                LOG.info("{}: rehearsal {} {} in {} s (platform {} s)", r.get("source"), r.get("file_name"), outcome.toUpperCase(Locale.ROOT),
                        total / 1000, times.get("platform_seconds"));
                dropBeyondKept((String) r.get("source"));
            }
        }
        return settled;
    }

    private boolean finish(Map<String, Object> r, String outcome, String detail, Map<String, Object> times, long now) throws SQLException {
        try (Connection c = store.getConnection()) {
            boolean ended = Rows.update(c, "update rehearsals set outcome = ?, detail = ?, finished_millis = ?, upload_seconds = ?, platform_seconds = ?, "
                    + "download_seconds = ?, restore_seconds = ?, total_seconds = ?, restored_to = ? where id = ? and outcome is null",
                    outcome, detail, times.getOrDefault("finished_millis", now), times.get("upload_seconds"), times.get("platform_seconds"),
                    times.get("download_seconds"), times.get("restore_seconds"),
                    (((Number) times.getOrDefault("finished_millis", now)).longValue() - ((Number) r.get("started_millis")).longValue()) / 1000.0,
                    r.get("dump_restored_to"), r.get("id")) == 1;
            if (ended) {
                ended((String) r.get("source"), outcome);
            }
            return ended;
        }
    }

    /** The time each part took, in seconds, from the dump's events: upload, platform, download, restore. */
    Map<String, Object> times(String dumpId) throws SQLException {
        Map<String, long[]> at = new LinkedHashMap<>();
        try (Connection c = store.getConnection()) {
            for (Map<String, Object> e : Rows.query(c, "select transition, min(at_millis) as first, max(at_millis) as last from dump_events "
                    + "where dump_id = ? group by transition", 100, dumpId)) {
                at.put((String) e.get("transition"), new long[] {((Number) e.get("first")).longValue(), ((Number) e.get("last")).longValue()});
            }
        }
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("upload_seconds", span(at, "upload-started", "uploaded"));
        t.put("platform_seconds", span(at, "processing", "upgraded"));
        t.put("download_seconds", span(at, "download-started", "downloaded"));
        Double restore = span(at, "delivered-to-restore", "restored");
        t.put("restore_seconds", restore != null ? restore : span(at, "delivered-to-restore", "restore-failed"));
        long end = 0;
        for (String last : List.of("delivered", "restored", "restore-failed", "failed")) {
            if (at.containsKey(last)) {
                end = Math.max(end, at.get(last)[1]);
            }
        }
        if (end > 0) {
            t.put("finished_millis", end);
        }
        return t;
    }

    private static Double span(Map<String, long[]> at, String from, String to) {
        return at.containsKey(from) && at.containsKey(to) ? Math.max(0, at.get(to)[1] - at.get(from)[0]) / 1000.0 : null;
    }

    /**
     * The rehearsal databases of a source beyond its kept count, newest first, are dropped: only databases the store records
     * as restored for a rehearsal of this source, and only while the database's own mark names that rehearsal's dump.
     */
    void dropBeyondKept(String name) throws SQLException {
        Source source = sources.get(name);
        if (source == null || !restorer.configured()) {
            return;
        }
        List<Map<String, Object>> made;
        try (Connection c = store.getConnection()) {
            made = Rows.query(c, "select id, dump_id, restored_to from rehearsals where source = ? and restored_to is not null "
                    + "and database_dropped_millis is null order by started_millis desc", 10_000, name);
        }
        for (Map<String, Object> r : made.subList(Math.min(made.size(), source.keep()), made.size())) {
            String database = (String) r.get("restored_to");
            boolean dropped = restorer.dropMadeFor(database, (String) r.get("dump_id"));
            try (Connection c = store.getConnection()) {
                Rows.update(c, "update rehearsals set database_dropped_millis = ? where id = ?", clock.getAsLong(), r.get("id"));
            }
            LOG.info("{}: the rehearsal database {} {} (the newest {} are kept)", name, database,
                    dropped ? "was dropped" : "is no longer the courier's (or gone): left alone", source.keep());
        }
    }

    /**
     * The fires of each source's schedule missed while no node ran it (the service was stopped): at most one per source, the
     * latest, to be rehearsed now. A source never rehearsed has missed nothing.
     */
    public List<Map<String, Object>> missedFires() throws SQLException {
        List<Map<String, Object>> missed = new ArrayList<>();
        long now = clock.getAsLong();
        for (Source s : sources.values()) {
            Long last;
            try (Connection c = store.getConnection()) {
                List<Map<String, Object>> rows = Rows.query(c, "select max(scheduled_millis) as last from rehearsals where source = ?", 1,
                        s.name());
                last = rows.isEmpty() || rows.get(0).get("last") == null ? null : ((Number) rows.get(0).get("last")).longValue();
            }
            if (last == null) {
                continue;
            }
            Long fire = lastFireBetween(s.cron(), last, now);
            if (fire != null) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("source", s.name());
                m.put("scheduledMillis", fire);
                m.put("scheduled", time(fire));
                missed.add(m);
            }
        }
        return missed;
    }

    /** The latest fire of {@code cron} after {@code after} and not after {@code now}, or null. */
    static Long lastFireBetween(String cron, long after, long now) {
        org.quartz.CronExpression e;
        try {
            e = new org.quartz.CronExpression(cron);
        } catch (java.text.ParseException ex) {
            return null;
        }
        Long found = null;
        java.util.Date next = e.getTimeAfter(new java.util.Date(after));
        // a schedule of every second, stopped for days: counting stops at a bound, the latest is what matters
        for (int i = 0; next != null && next.getTime() <= now && i < 100_000; i++) {
            found = next.getTime();
            next = e.getTimeAfter(next);
        }
        return found;
    }

    /**
     * At start: rehearsals this node was dumping when it stopped end as interrupted (their dump never reached the queue),
     * and what their pg_dump left half-made in custody ({@code data/dumps/<id>/}) is deleted.
     */
    public int interruptedAtStart() throws SQLException, java.io.IOException {
        String stopped = "outcome is null and node = ? and not exists (select 1 from dumps d where d.id = rehearsals.dump_id)";
        try (Connection c = store.getConnection()) {
            for (Map<String, Object> r : Rows.query(c, "select dump_id from rehearsals where " + stopped, 1000, node)) {
                if (r.get("dump_id") instanceof String id && id.matches("rh-[0-9a-f]+")) {
                    com.odooupgradecourier.support.Moves.deleteTree(dumpsDir.resolve(id));
                }
            }
            return Rows.update(c, "update rehearsals set outcome = 'interrupted', detail = 'the service stopped while it dumped the "
                    + "database', finished_millis = ? where " + stopped, clock.getAsLong(), node);
        }
    }

    /** The newest rehearsals of each source (at most {@code max} each), newest first, as the page and /sources show them. */
    public Map<String, List<Map<String, Object>>> history(int max) throws SQLException {
        Map<String, List<Map<String, Object>>> out = new LinkedHashMap<>();
        try (Connection c = store.getConnection()) {
            for (String name : names(c)) {
                List<Map<String, Object>> runs = new ArrayList<>();
                for (Map<String, Object> r : Rows.query(c, "select r.*, d.step, d.file_name, d.request_id from rehearsals r left join dumps d "
                        + "on d.id = r.dump_id where r.source = ? order by r.started_millis desc", max, name)) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("id", r.get("id"));
                    m.put("dump", r.get("file_name"));
                    m.put("request_id", r.get("request_id"));
                    m.put("scheduled", time(r.get("scheduled_millis")));
                    m.put("started", time(r.get("started_millis")));
                    m.put("started_millis", r.get("started_millis"));
                    m.put("finished", time(r.get("finished_millis")));
                    m.put("step", r.get("step"));
                    m.put("outcome", r.get("outcome") == null ? "running" : r.get("outcome"));
                    m.put("detail", r.get("detail"));
                    for (String k : List.of("dump_seconds", "upload_seconds", "platform_seconds", "download_seconds", "restore_seconds",
                            "total_seconds")) {
                        m.put(k, r.get(k) == null ? null : Math.round(((Number) r.get(k)).doubleValue() * 10) / 10.0);
                    }
                    m.put("warnings", r.get("warnings"));
                    m.put("headings", r.get("headings") == null ? List.of() : List.of(((String) r.get("headings")).split("\n")));
                    m.put("restored_to", r.get("restored_to"));
                    m.put("database_dropped", r.get("database_dropped_millis") != null);
                    runs.add(m);
                }
                out.put(name, runs);
            }
        }
        return out;
    }

    private List<String> names(Connection c) throws SQLException {
        List<String> names = new ArrayList<>(sources.keySet());
        for (Map<String, Object> r : Rows.query(c, "select distinct source from rehearsals order by source", 1000)) {
            if (!names.contains((String) r.get("source"))) {
                names.add((String) r.get("source"));
            }
        }
        return names;
    }

    static String time(Object millis) {
        return millis instanceof Number n ? Instant.ofEpochMilli(n.longValue()).truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString()
                : null;
    }
}

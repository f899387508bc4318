package com.odooupgradecourier.rehearsal;

import com.odooupgradecourier.store.Dumps;
import com.odooupgradecourier.store.Rows;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;
import javax.sql.DataSource;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Odoo's advice made a rule: a production upgrade follows a test of the same database to the same target, shortly before.
 * A dump with aim {@code production} is held (step {@code held}, the reason beside it) unless a test of the same source
 * to the same target was delivered within {@code courier.production.max-test-age}; {@code production-without-test = true}
 * (the dump's settings file, a source's setting, or {@code courier.production.without-test} for every dump) lets it
 * through, and its event says so.
 *
 * <p>The source of a dump is its settings' {@code source} (a rehearsal's is its source's name), else its
 * {@code source-database}, else its file name without extension: {@code acme.dump} tested, then {@code acme.dump} for
 * production, is one source.
 */
public class ProductionGuard {
    private static final Logger LOG = LoggerFactory.getLogger("courier");
    private static final List<String> EXTENSIONS = List.of(".gz", ".zip", ".dump", ".sql", ".backup", ".pgdump", ".tar");

    private final DataSource store;
    private final Dumps dumps;
    private final long maxAgeMillis;
    private final boolean withoutTest;
    private final LongSupplier clock;

    public ProductionGuard(DataSource store, Dumps dumps, Duration maxTestAge, boolean withoutTest, LongSupplier clock) {
        this.store = store;
        this.dumps = dumps;
        this.maxAgeMillis = maxTestAge.toMillis();
        this.withoutTest = withoutTest;
        this.clock = clock;
    }

    /**
     * At admission: sets {@code source}; whether the dump is held, the reason in {@code lastError}. A production dump let
     * through by {@code production-without-test} has that said in {@code eventDetail}, which its event keeps.
     */
    public boolean holds(Exchange exchange) throws SQLException, com.odooupgradecourier.dump.BadDumpException {
        String source = sourceOf(exchange.getProperty("source", String.class), exchange.getProperty("sourceDatabase", String.class),
                exchange.getProperty("fileName", String.class));
        exchange.setProperty("source", source);
        if (!"production".equalsIgnoreCase(String.valueOf(exchange.getProperty("aim")).trim())) {
            return false;
        }
        String target = exchange.getProperty("target", String.class);
        String test = recentTest(source, target);
        if (test != null) {
            exchange.setProperty("eventDetail", "production upgrade after the test " + test);
            return false;
        }
        String own = exchange.getProperty("productionWithoutTest", String.class);
        if (own != null && !own.isBlank() && !own.trim().equalsIgnoreCase("true") && !own.trim().equalsIgnoreCase("false")) {
            throw new com.odooupgradecourier.dump.BadDumpException("production-without-test must be true or false in the dump's settings file");
        }
        if (withoutTest || "true".equalsIgnoreCase(own == null ? "" : own.trim())) {
            exchange.setProperty("eventDetail", "sent without a test of " + source + " to " + target + " in the last "
                    + days() + ": production-without-test = true (" + (withoutTest ? "courier.production.without-test" : "its settings") + ")");
            return false;
        }
        exchange.setProperty("lastError", "held: a production upgrade, and no test of " + source + " to " + target + " was delivered in "
                + "the last " + days() + " (courier.production.max-test-age). It goes on by itself once one is; to send it without, "
                + "press Retry (or --retry), or set production-without-test = true in its settings file");
        return true;
    }

    /** The first held dump a delivered test now clears goes on; each one is said in the log. */
    public int releaseCleared() throws SQLException {
        List<Map<String, Object>> held;
        try (Connection c = store.getConnection()) {
            held = Rows.query(c, "select id, file_name, source, target from dumps where step = 'held'", 1000);
        }
        int released = 0;
        for (Map<String, Object> d : held) {
            String test = recentTest((String) d.get("source"), (String) d.get("target"));
            if (test == null) {
                continue;
            }
            try {
                dumps.release((String) d.get("id"), (String) d.get("file_name"), "released: production upgrade after the test " + test);
                released++;
                LOG.info("{}: released: the test {} was delivered; the production upgrade goes on", d.get("file_name"), test);
            } catch (com.odooupgradecourier.store.IllegalTransitionException e) {
                // released meanwhile (by a person, or another node)
            }
        }
        return released;
    }

    /** A test of {@code source} to {@code target} delivered within the max age: "<file> (request N, delivered at T)", or null. */
    String recentTest(String source, String target) throws SQLException {
        if (source == null || target == null) {
            return null;
        }
        try (Connection c = store.getConnection()) {
            List<Map<String, Object>> found = Rows.query(c, "select d.file_name, d.request_id, e.at_millis from dumps d join dump_events e "
                    + "on e.dump_id = d.id where d.source = ? and d.target = ? and d.aim = 'test' and e.transition in ('delivered', "
                    + "'delivered-to-restore') and e.at_millis >= ? order by e.at_millis desc", 1, source, target,
                    clock.getAsLong() - maxAgeMillis);
            if (found.isEmpty()) {
                return null;
            }
            Map<String, Object> t = found.get(0);
            return t.get("file_name") + " (request " + t.get("request_id") + ", delivered at "
                    + Instant.ofEpochMilli(((Number) t.get("at_millis")).longValue()).truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + ")";
        }
    }

    /** A dump's source: its setting, else its source database, else its file name without extension (lower case). */
    static String sourceOf(String source, String sourceDatabase, String fileName) {
        if (source != null && !source.isBlank()) {
            return source.trim();
        }
        if (sourceDatabase != null && !sourceDatabase.isBlank()) {
            return sourceDatabase.trim();
        }
        String stem = fileName == null ? "" : fileName;
        for (String ext : EXTENSIONS) {
            if (stem.toLowerCase(Locale.ROOT).endsWith(ext) && stem.length() > ext.length()) {
                stem = stem.substring(0, stem.length() - ext.length());
            }
        }
        return stem.length() > 64 ? stem.substring(0, 64) : stem;
    }

    private String days() {
        long hours = maxAgeMillis / 3_600_000;
        return hours % 24 == 0 ? hours / 24 + " day(s)" : maxAgeMillis / 1000 + " s";
    }
}

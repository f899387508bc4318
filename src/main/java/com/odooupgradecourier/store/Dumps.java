package com.odooupgradecourier.store;

import com.odooupgradecourier.store.Transition.Effect;
import com.odooupgradecourier.support.RetryPolicy;
import com.odooupgradecourier.support.Secrets;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where a dump moves from step to step ({@link #go}): every transition, named once in {@link Transition},
 * is a guarded update — it names the step the dump must be in and the node that must hold its lease ({@link Queue}),
 * checks that exactly one row changed, writes the columns the transition names from the exchange's properties, decides
 * when the dump is due next, applies the transition's effects (data on {@link Transition}), and records itself in
 * {@code dump_events}.
 *
 * <p>Times are milliseconds since the epoch, as 64-bit values, taken from this JVM's clock.
 */
public class Dumps {
    private static final Logger LOG = LoggerFactory.getLogger("courier");

    private final Rows rows;
    private final Queue queue;
    private final long pollMillis;
    private final RetryPolicy retries;
    private final long lifetimeMillis;
    private final LongSupplier clock;

    /**
     * @param pollMillis     {@code upgrade.poll-interval}
     * @param retries        {@code upgrade.retry.*}: parking continues the retries' doubling
     * @param lifetimeMillis {@code upgrade.timeout}: a dump not delivered this long after it was received is bounced
     */
    public Dumps(Rows rows, Queue queue, long pollMillis, RetryPolicy retries, long lifetimeMillis, LongSupplier clock) {
        this.rows = rows;
        this.queue = queue;
        this.pollMillis = pollMillis;
        this.retries = retries;
        this.lifetimeMillis = lifetimeMillis;
        this.clock = clock;
    }

    /**
     * Moves the exchange's dump through the named transition: a guarded update of its row (its step as this exchange
     * knows it, and this node's lease), with the columns the transition writes taken from the exchange's properties,
     * recorded in {@code dump_events}.
     *
     * @throws IllegalTransitionException the dump is not in a step the transition starts from, or another worker holds it now
     * @throws DuplicateDumpException     {@code admitted}: another unfinished dump has the same sha256
     */
    public void go(Exchange exchange, String name) throws SQLException, DuplicateDumpException {
        Transition t = Transition.named(name);
        Step from = Step.of(exchange.getProperty("dumpStep", String.class));
        Map<String, Object> values = new LinkedHashMap<>();
        for (String column : t.columns()) {
            String property = Rows.PROPERTY_OF.get(column);
            values.put(column, property == null ? null : exchange.getProperty(property));
        }
        long attempts = exchange.getProperty("attempts", 0L, Long.class);
        if (!t.allowedFrom(from)) {
            throw new IllegalTransitionException(exchange.getProperty("fileName") + ": '" + t.id() + "' cannot start from step " + from);
        }
        Step to = t.has(Effect.STARTS_OVER) ? Step.of(exchange.getProperty("failedStep", String.class)) : t.target(from);
        String id = exchange.getProperty("dumpId", String.class);
        try {
            long next = apply(id, exchange.getProperty("fileName", String.class), t, from, to, values, attempts,
                    exchange.getProperty("requestKey", String.class), exchange.getProperty("eventDetail", String.class));
            if (t.has(Effect.COUNTS_ATTEMPT)) {
                exchange.setProperty("nextAttemptAt", next);
                exchange.setProperty("nextAttempt", Instant.ofEpochMilli(next).truncatedTo(ChronoUnit.SECONDS).toString());
                exchange.setProperty("attempts", attempts + 1);
            }
        } catch (SQLException e) {
            if ((t == Transition.ADMIT || t == Transition.HOLD) && Rows.isUniqueViolation(e)) {
                throw duplicate(exchange);
            }
            throw e;
        }
        exchange.setProperty("dumpStep", to.id());
        if (t.has(Effect.JOURNAL)) {
            journal(id);
        }
        if (t.has(Effect.KEEPS_FAILED_STEP) || t.has(Effect.FAILED_AT_RESTORE)) {
            exchange.setProperty("failedStep", from.id());
        } else if (t.has(Effect.STARTS_OVER)) {
            exchange.removeProperty("failedStep");
        }
    }

    /**
     * A failed dump taken up again: back at the step it failed at (its platform request kept), due at once, with
     * a fresh lifetime and {@code path} where its file is now. No lease is needed: nobody works on a failed dump.
     *
     * @return the step it is in now
     */
    public Step retry(String id, String fileName, String failedStep, String path) throws SQLException {
        Step failedAt = failedStep == null ? Step.RECEIVED : Step.of(failedStep);
        if (failedAt == Step.RESTORING) {
            // a failed restore: the dump was delivered, its archive is restored again
            apply(id, fileName, Transition.RETRY, Step.RESTORE_FAILED, Step.RESTORING, java.util.Collections.emptyMap(), 0, null, null);
            return Step.RESTORING;
        }
        // before its request exists a dump starts over: inspected again, its settings (perhaps corrected) read again
        Step to = failedAt == Step.ADMITTED ? Step.RECEIVED : failedAt;
        apply(id, fileName, Transition.RETRY, Step.FAILED, to, java.util.Collections.singletonMap("path", path), 0, null, null);
        return to;
    }

    /**
     * A held dump goes on ({@code released}): admitted, due at once, with a fresh lifetime; {@code why} (a test of its source
     * was delivered, or a person let it through without one) is kept in its event. No lease is needed: nobody works on a
     * held dump.
     *
     * @throws IllegalTransitionException it is no longer held
     */
    public void release(String id, String fileName, String why) throws SQLException {
        apply(id, fileName, Transition.RELEASE, Step.HELD, Step.ADMITTED, java.util.Collections.emptyMap(), 0, null, why);
    }

    /** Whether the dump's lifetime ({@code upgrade.timeout} after it was received) is over. */
    public boolean lifetimeOver(@ExchangeProperty("receivedMillis") Long receivedMillis) {
        return receivedMillis != null && clock.getAsLong() - receivedMillis > lifetimeMillis;
    }

    /**
     * Writes the journal beside a dump in custody (its own folder {@code data/dumps/<id>/}) from its row: what a lost
     * store needs to go on with the same request. A journal that cannot be written is said, and the dump goes on.
     */
    public void journal(String id) {
        try (Connection c = rows.store().getConnection()) {
            List<Map<String, Object>> found = Rows.query(c, "select * from dumps where id = ? and request_id is not null", 1, id);
            Path folder = found.isEmpty() || found.get(0).get("path") == null ? null : Path.of((String) found.get(0).get("path")).getParent();
            if (folder != null && folder.getFileName() != null && folder.getFileName().toString().equals(id)) {
                Journal.write(folder, found.get(0));
            }
        } catch (SQLException | IOException e) {
            LOG.warn("{}: its journal could not be written in custody ({}): a store lost now would not know its request", id,
                    e.getMessage());
        }
    }

    /**
     * A dump in custody whose row the store lost, but whose journal names its platform request: recorded again as the
     * journal says, so it goes on with the same request (created: uploaded again; uploaded or later: asked for its status,
     * never processed twice).
     *
     * @return the step it is in now
     */
    public Step resume(Map<String, Object> journal, Path dump) throws SQLException {
        String id = (String) journal.get("id");
        Step step = Step.of(String.valueOf(journal.get("step"))).compareTo(Step.UPLOADED) >= 0 ? Step.UPLOADED : Step.CREATED;
        long now = clock.getAsLong();
        List<String> columns = new ArrayList<>(Journal.COLUMNS);
        columns.remove("step");
        StringBuilder sql = new StringBuilder("insert into dumps (path, step, next_attempt_at");
        List<Object> args = new ArrayList<>(List.of(dump.toString(), step.id(), now));
        for (String column : columns) {
            sql.append(", ").append(column);
            args.add(Rows.value(column, journal.get(column)));
        }
        sql.append(") values (").append("?, ".repeat(args.size() - 1)).append("?)");
        try (Connection c = rows.store().getConnection()) {
            c.setAutoCommit(false);
            Rows.update(c, sql.toString(), args.toArray());
            event(c, id, now, "recovered", null, step, queue.node(), "the store had lost it: taken up again from the journal in custody");
            c.commit();
        }
        return step;
    }

    /**
     * One guarded update: from {@code from} to {@code to} by {@code t}, writing {@code values} (by column) and what
     * the transition says of attempts, errors and when the dump is due, recorded in {@code dump_events}.
     *
     * @return when the dump is due next (0 when not due)
     */
    private long apply(String id, String fileName, Transition t, Step from, Step to, Map<String, Object> values, long attempts,
                       String requestKey, String detail) throws SQLException {
        if (!t.allowedFrom(from)) {
            throw new IllegalTransitionException(fileName + ": '" + t.id() + "' cannot start from step " + from);
        }
        long now = clock.getAsLong();
        long next = t.has(Effect.COUNTS_ATTEMPT) ? now + retries.parkedFor(attempts) : switch (t.due()) {
            case NOW -> now;
            case POLL -> now + pollMillis;
            default -> 0;
        };
        StringBuilder sql = new StringBuilder("update dumps set step = ?, updated_at = CURRENT_TIMESTAMP");
        List<Object> args = new ArrayList<>(List.of(to.id()));
        setValues(sql, args, values, now, requestKey);
        setAttemptsAndDue(sql, args, t, from != to, values.containsKey("last_error"), next);
        setEffects(sql, args, t, from, now);
        sql.append(" where id = ? and step = ?");
        args.add(id);
        args.add(from.id());
        boolean leaseFree = t.has(Effect.STARTS_OVER) || t.has(Effect.RELEASES);
        if (!leaseFree) {
            sql.append(" and lease_owner = ?");
            args.add(queue.owner());
        }
        write(sql.toString(), args, t, () -> fileName + ": '" + t.id() + "' refused: the dump is no longer in step " + from
                + (leaseFree ? "" : " or is held by another worker"),
                c -> event(c, id, now, t.id(), from, to, queue.node(), values.get("last_error") != null ? (String) values.get("last_error")
                        : detail));
        return next;
    }

    /** The columns a transition writes: the key sealed, excerpts masked, the time of the request's creation stamped here. */
    private void setValues(StringBuilder sql, List<Object> args, Map<String, Object> values, long now, String requestKey) {
        for (Map.Entry<String, Object> v : values.entrySet()) {
            sql.append(", ").append(v.getKey()).append(" = ?");
            args.add(v.getKey().equals("request_created_millis") ? now
                    : Rows.SEALED.contains(v.getKey()) ? rows.keys().seal((String) v.getValue())
                    : Rows.MASKED.contains(v.getKey()) ? Secrets.mask((String) v.getValue(), requestKey)
                    : Rows.value(v.getKey(), v.getValue()));
        }
    }

    /** Attempts counted (parked) or started again (a new step), the last error kept or cleared, and when the dump is due. */
    private static void setAttemptsAndDue(StringBuilder sql, List<Object> args, Transition t, boolean newStep, boolean keepsError,
                                          long next) {
        if (t.has(Effect.COUNTS_ATTEMPT)) {
            sql.append(", attempts = attempts + 1, next_attempt_at = ?");
            args.add(next);
            return;
        }
        if (newStep) {
            sql.append(", attempts = 0");
        }
        if (!keepsError) {
            sql.append(", last_error = null");
        }
        if (next > 0) {
            sql.append(", next_attempt_at = ?");
            args.add(next);
        } else if (t.due() == Transition.Due.NEVER) {
            sql.append(", next_attempt_at = null");
        }
        // NONE: the work that made the transition goes on; the row stays due for a retake if it dies
    }

    /** The transition's effects that are columns: the failed step, the request forgotten, a dump started over. */
    private static void setEffects(StringBuilder sql, List<Object> args, Transition t, Step from, long now) {
        if (t.has(Effect.KEEPS_FAILED_STEP) || t.has(Effect.FAILED_AT_RESTORE)) {
            sql.append(", failed_step = ?");
            args.add(t.has(Effect.FAILED_AT_RESTORE) ? Step.RESTORING.id() : from.id());
        }
        if (t.has(Effect.FORGETS_REQUEST)) {
            sql.append(", request_key = null, status_url = null, download_url = null, notes_url = null, env_vars = null");
        }
        if (t.has(Effect.STARTS_OVER)) {
            sql.append(", failed_step = null, received_millis = ?, lease_owner = null, lease_until = null");
            args.add(now);
        }
        if (t.has(Effect.RELEASES)) {
            sql.append(", received_millis = ?, lease_owner = null, lease_until = null");
            args.add(now);
        }
    }

    /** The guarded update and its event in one transaction; refused (nothing written) when the guard does not hold. */
    private void write(String sql, List<Object> args, Transition t, java.util.function.Supplier<String> refused, Rows.Work event)
            throws SQLException {
        try (Connection c = rows.store().getConnection()) {
            c.setAutoCommit(false);
            try {
                if (Rows.update(c, sql, args.toArray()) != 1) {
                    c.rollback();
                    throw new IllegalTransitionException(refused.get());
                }
                event.run(c);
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
            if (t.has(Effect.FORGETS_REQUEST)) {
                // the request's key is out of the row: out of the file too
                c.setAutoCommit(true);
                Store.purge(c);
            }
        }
    }

    private DuplicateDumpException duplicate(Exchange exchange) throws SQLException {
        String sha = exchange.getProperty("dumpSha256", String.class);
        List<Map<String, Object>> twin;
        try (Connection c = rows.store().getConnection()) {
            twin = Rows.query(c, "select file_name, request_id, step from dumps where sha256 = ? and id <> ? "
                    + "and step not in (" + Rows.LEFT_PLATFORM + ")", 1, sha, exchange.getProperty("dumpId", String.class));
        }
        Map<String, Object> t = twin.isEmpty() ? Map.of() : twin.get(0);
        return new DuplicateDumpException("the same dump (sha256 " + sha + ") is already in flight as " + t.get("file_name")
                + ", request " + t.get("request_id") + ", step " + t.get("step")
                + ": it is not sent a second time. Wait for that one to be delivered, or drop a different dump.");
    }

    static void event(Connection c, String id, long at, String transition, Step from, Step to, String node, String detail)
            throws SQLException {
        Rows.update(c, "insert into dump_events (dump_id, at_millis, transition, from_step, to_step, node, detail) values (?, ?, ?, ?, ?, ?, ?)",
                id, at, transition, from == null ? null : from.id(), to.id(), node, detail);
    }
}

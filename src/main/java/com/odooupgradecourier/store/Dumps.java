package com.odooupgradecourier.store;

import com.odooupgradecourier.dump.DuplicateDumpException;
import com.odooupgradecourier.support.KeyCipher;
import com.odooupgradecourier.support.Secrets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.apache.camel.Body;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue of dumps, kept in the store: what is due, who holds it, and the one place where a dump moves
 * from step to step ({@link #go}). Every transition is a guarded update: it names the step the dump must
 * be in and the node that must hold its lease, checks that exactly one row changed, and records itself in
 * {@code dump_events}. Work is taken up only through {@link #claimDue()}: new dumps, dumps parked after a
 * fault that are due again, and dumps whose lease ran out (their worker died).
 *
 * <p>Times are milliseconds since the epoch, as 64-bit values, taken from this JVM's clock.
 */
public class Dumps {
    private static final Logger LOG = LoggerFactory.getLogger("courier");
    private static final int CLAIM_BATCH = 100;

    /** Which exchange property holds the value of each column the routes read or write. */
    public static final Map<String, String> PROPERTY_OF = columns(
            "id", "dumpId", "file_name", "fileName", "path", "dumpPath", "size", "dumpSize", "sha256", "dumpSha256",
            "format", "dumpFormat", "platform_name", "platformFilename", "contract", "contract", "email", "email",
            "target", "target", "aim", "aim", "timezone", "timezone", "request_id", "requestId", "request_key", "requestKey",
            "state", "state", "customer_message", "customerMessage", "status_url", "statusUrl", "download_url", "downloadUrl",
            "notes_url", "notesUrl", "elapsed", "elapsed", "estimated_time", "estimatedTime", "delivered_to", "deliveredName",
            "step", "dumpStep", "received_millis", "receivedMillis", "attempts", "attempts", "last_error", "lastError",
            "failed_step", "failedStep", "next_attempt_at", "nextAttemptAt", "what_to_do", "whatToDo",
            "delivery_name", "deliveryNameBefore", "restore", "restore", "restore_name", "restoreName", "restored_to", "restoredTo",
            "host_uri", "hostUri", "env_vars", "envVars", "pg_compatible", "pgCompatible", "file_stamp", "fileStamp",
            "restore_role", "restoreRole", "filestore_path", "filestorePath", "missing_attachments", "missingAttachments",
            "neutralized", "neutralized", "source_database", "sourceDatabase", "pg_version", "pgVersion");
    /** The steps nothing takes up (but a retry), as an SQL list. */
    private static final String FINAL = Step.sqlList(Step::isFinal);
    /** The steps of a dump the platform no longer works on, as an SQL list: such a dump is not in flight. */
    private static final String LEFT_PLATFORM = Step.sqlList(Step::leftPlatform);
    /** Columns that hold the request key (itself, or in a platform URL): sealed with courier.store.secret. */
    static final Set<String> SEALED = Set.of("request_key", "status_url", "download_url", "notes_url");
    /** Columns of text from the platform or errors: the key is masked out of them before they are stored. */
    private static final Set<String> MASKED = Set.of("customer_message", "last_error", "what_to_do");
    private static final Set<String> NUMBERS = Set.of("size", "request_id", "request_created_millis", "received_millis",
            "next_attempt_at", "lease_until", "attempts", "missing_attachments");

    private final DataSource store;
    private final String node;
    private final long leaseMillis;
    private final long pollMillis;
    private final long retryDelay;
    private final long maxDelay;
    private final int retryAttempts;
    private final long lifetimeMillis;
    private final LongSupplier clock;
    private final Set<String> held = ConcurrentHashMap.newKeySet();
    /**
     * Taking, renewing and letting go of a lease are each one step under this lock (the check of {@link #held}, the update,
     * the change of {@link #held}): the heartbeat never renews a lease being let go, nor forgets one just taken again.
     */
    private final Object leases = new Object();
    /** Who holds the leases this node takes: the node id, and once registered its instance ({@code node#instance}). */
    private volatile String owner;
    private volatile Nodes nodes;
    private volatile Path staging;
    private final KeyCipher keys;

    /**
     * @param node          this instance's name: the owner of the leases it takes
     * @param leaseMillis   how long a lease holds without a heartbeat ({@link #renewLeases()})
     * @param pollMillis    {@code upgrade.poll-interval}
     * @param retryDelay    {@code upgrade.retry.delay}: the first in-step retry; parking continues the doubling
     * @param retryAttempts {@code upgrade.retry.attempts}
     * @param maxDelay      {@code upgrade.retry.max-delay}: the longest wait between two attempts
     * @param lifetimeMillis {@code upgrade.timeout}: a dump not delivered this long after it was received is bounced
     */
    public Dumps(DataSource store, String node, long leaseMillis, long pollMillis, long retryDelay, int retryAttempts,
                 long maxDelay, long lifetimeMillis, LongSupplier clock) {
        this(store, node, leaseMillis, pollMillis, retryDelay, retryAttempts, maxDelay, lifetimeMillis, clock, KeyCipher.NONE);
    }

    /** @param keys how request keys are kept at rest ({@code courier.store.secret}) */
    public Dumps(DataSource store, String node, long leaseMillis, long pollMillis, long retryDelay, int retryAttempts,
                 long maxDelay, long lifetimeMillis, LongSupplier clock, KeyCipher keys) {
        this.keys = keys;
        this.store = store;
        this.node = node;
        this.owner = node;
        this.leaseMillis = leaseMillis;
        this.pollMillis = pollMillis;
        this.retryDelay = retryDelay;
        this.retryAttempts = retryAttempts;
        this.maxDelay = maxDelay;
        this.lifetimeMillis = lifetimeMillis;
        this.clock = clock;
    }

    public String node() {
        return node;
    }

    /**
     * This node's instance holds its node id in the store ({@link Nodes}): the leases it takes name the instance, so an
     * instance that lost its node id to another (it was stalled) is refused at its next step, and takes no more work.
     */
    public void registeredAs(Nodes nodes) {
        this.nodes = nodes;
        this.owner = node + "#" + nodes.instance();
    }

    /** The node a lease owner names ({@code node#instance} or {@code node}). */
    static String nodeOf(Object owner) {
        String o = String.valueOf(owner);
        int hash = o.lastIndexOf('#');
        return hash > 0 ? o.substring(0, hash) : o;
    }

    // ---------------------------------------------------------------- taking work

    /** A dump just taken into custody: recorded as {@code received}, due at once. */
    public void receive(@ExchangeProperty("dumpId") String id, @ExchangeProperty("fileName") String fileName,
                        @ExchangeProperty("dumpPath") String path) throws SQLException {
        long now = clock.getAsLong();
        try (Connection c = store.getConnection()) {
            c.setAutoCommit(false);
            update(c, "insert into dumps (id, file_name, path, step, received_millis, next_attempt_at) values (?, ?, ?, ?, ?, ?)",
                    id, fileName, path, Step.RECEIVED.id(), now, now);
            event(c, id, now, "received", null, Step.RECEIVED, null);
            c.commit();
        }
    }

    /**
     * Takes every dump that is due and not held by anyone: a lease for this node is written on each (a
     * guarded update, so two nodes never take the same dump) and the rows are returned, oldest due first.
     */
    public synchronized List<Map<String, Object>> claimDue() throws SQLException {
        long now = clock.getAsLong();
        List<Map<String, Object>> claimed = new ArrayList<>();
        if (nodes != null && !nodes.held()) {
            return claimed; // another instance took this node id over: no more work here
        }
        try (Connection c = store.getConnection()) {
            List<Map<String, Object>> due = query(c, "select * from dumps where step not in (" + FINAL + ") "
                    + "and next_attempt_at <= ? and (lease_until is null or lease_until < ?) order by next_attempt_at, received_millis",
                    CLAIM_BATCH, now, now);
            for (Map<String, Object> row : due) {
                String id = (String) row.get("id");
                synchronized (leases) {
                    if (held.contains(id)) {
                        // this node still works on it (its lease ran out while the store was slow): never twice at once
                        continue;
                    }
                    if (update(c, "update dumps set lease_owner = ?, lease_until = ? where id = ? and step = ? "
                            + "and (lease_until is null or lease_until < ?)", owner, now + leaseMillis, id, row.get("step"), now) != 1) {
                        continue;
                    }
                    held.add(id);
                }
                claimed.add(row);
                if (row.get("lease_owner") != null) {
                    LOG.info("{}: taken up again at step {} ({} stopped working on it)", row.get("file_name"), row.get("step"),
                            nodeOf(row.get("lease_owner")));
                }
            }
        }
        return claimed;
    }

    /** Sets the exchange properties of a dump from its row (the body), e.g. {@code dumpId}, {@code requestKey}. */
    public void load(Exchange exchange, @Body Map<String, Object> row) {
        row.forEach((column, value) -> {
            String property = PROPERTY_OF.get(column.toLowerCase(Locale.ROOT));
            if (property != null) {
                exchange.setProperty(property, SEALED.contains(column.toLowerCase(Locale.ROOT)) ? keys.open((String) value) : value);
            }
        });
        exchange.setProperty("previousState", row.get("state"));
    }

    /** The dump's work here is over for now: its lease is given up (the queue takes it when it is due). */
    public void release(@ExchangeProperty("dumpId") String id) throws SQLException {
        if (id == null) {
            return;
        }
        synchronized (leases) {
            if (!held.contains(id)) {
                return;
            }
            try (Connection c = store.getConnection()) {
                update(c, "update dumps set lease_owner = null, lease_until = null where id = ? and lease_owner = ?", id, owner);
            } finally {
                // let go here even when the store did not answer: its lease runs out, and it is taken up again then
                held.remove(id);
            }
        }
    }

    /**
     * This node stops working on a dump without a word to the store (it cannot be reached): its lease runs out, and it is
     * taken up again then.
     */
    public void forget(@ExchangeProperty("dumpId") String id) {
        if (id != null) {
            synchronized (leases) {
                held.remove(id);
            }
        }
    }

    /** This node lets go of every dump it holds (a graceful stop: another node takes them up at once). */
    public void releaseAll() throws SQLException {
        synchronized (leases) {
            held.clear();
            try (Connection c = store.getConnection()) {
                update(c, "update dumps set lease_owner = null, lease_until = null where lease_owner = ?", owner);
            }
        }
    }

    /**
     * The heartbeat: every dump this node works on keeps its lease; one another node took meanwhile is let go here.
     *
     * @return how many holds were lost (another node took the dump, or this instance lost its node id)
     */
    public int renewLeases() throws SQLException {
        if (nodes != null && !nodes.heartbeat()) {
            synchronized (leases) {
                int lost = held.size();
                held.clear();
                return lost;
            }
        }
        if (held.isEmpty()) {
            return 0;
        }
        int lost = 0;
        try (Connection c = store.getConnection()) {
            for (String id : List.copyOf(held)) {
                synchronized (leases) {
                    // a dump let go since the copy was taken is not renewed (nor counted as lost)
                    if (held.contains(id) && !renew(c, id)) {
                        lost++;
                        LOG.warn("Dump {}: this node ({}) lost its hold on it (it was stalled longer than courier.lease-time); "
                                + "another node goes on with it, and this node's next step on it is refused", id, node);
                    }
                }
            }
        }
        return lost;
    }

    /**
     * Renews this node's lease on a dump for a whole lease time, counted from when it is written (not from before a slow
     * store answered). False, and the dump no longer counted as held here, when another node holds it now.
     */
    private boolean renew(Connection c, String id) throws SQLException {
        synchronized (leases) {
            if (update(c, "update dumps set lease_until = ? where id = ? and lease_owner = ?", clock.getAsLong() + leaseMillis, id,
                    owner) == 1) {
                return true;
            }
            held.remove(id);
            return false;
        }
    }

    /**
     * The fence before anything the platform or the output sees (a call, a transfer, a delivery): this node must still
     * hold the dump's lease, which is renewed for a whole lease time from now. A node that was stalled (a paused JVM, a
     * slow store) while another took the dump over is stopped here, before it repeats what the other does.
     *
     * @throws IllegalTransitionException another node holds the dump now
     */
    public void fence(@ExchangeProperty("dumpId") String id, @ExchangeProperty("fileName") String fileName) throws SQLException {
        if (id == null) {
            return;
        }
        try (Connection c = store.getConnection()) {
            if (!renew(c, id)) {
                throw new IllegalTransitionException(fileName + ": this node (" + node + ") no longer holds it: another node goes on "
                        + "with it");
            }
        }
    }

    /**
     * At start: leases this node held before (in a life that ended with a crash) are given up, and a dump
     * taken from the drop folder but not yet recorded (a crash in between) is recorded now. In a cluster
     * ({@code alone} false) the node that leads may be taking a dump from the drop folder at this very moment: only
     * what has waited a minute unrecorded is taken up, as the queue does while running.
     */
    public void recover(Path staging, Path custody, boolean alone) throws SQLException, IOException {
        this.staging = staging;
        try (Connection c = store.getConnection()) {
            // this node's earlier instances (the node id is this instance's now: none of them runs)
            for (Map<String, Object> row : query(c, "select id, file_name, step, lease_owner from dumps where lease_owner is not null",
                    Integer.MAX_VALUE)) {
                if (node.equals(nodeOf(row.get("lease_owner")))) {
                    LOG.info("{}: taken up again at step {} (the service stopped while working on it)", row.get("file_name"), row.get("step"));
                    update(c, "update dumps set lease_owner = null, lease_until = null where id = ? and lease_owner = ?", row.get("id"),
                            row.get("lease_owner"));
                }
            }
        }
        adoptOrphans(alone ? 0 : 60_000);
        // a dump in custody with no row (the store was lost): taken up again, from the start
        if (Files.isDirectory(custody)) {
            try (Stream<Path> dirs = Files.list(custody)) {
                for (Path d : dirs.filter(Files::isDirectory).toList()) {
                    adopt(d);
                }
            }
        }
    }

    /**
     * While running: a dump taken from the drop folder a minute ago or more but not recorded (the store did not
     * answer then) is recorded now, so it does not wait for a restart.
     */
    public void adoptOrphans() throws SQLException, IOException {
        adoptOrphans(60_000);
    }

    private void adoptOrphans(long minAgeMillis) throws SQLException, IOException {
        Path dir = staging;
        if (dir == null || !Files.isDirectory(dir)) {
            return;
        }
        // a file's age is told by the file system's clock
        long now = System.currentTimeMillis();
        try (Stream<Path> dirs = Files.list(dir)) {
            for (Path d : dirs.filter(Files::isDirectory).toList()) {
                if (now - Files.getLastModifiedTime(d).toMillis() >= minAgeMillis) {
                    adopt(d);
                }
            }
        }
    }

    private void adopt(Path dir) throws SQLException, IOException {
        String id = dir.getFileName().toString();
        List<Path> dumps;
        try (Stream<Path> files = Files.list(dir)) {
            // the dump itself: not its settings, not its journal, not a folder (a name Camel could not move left one)
            dumps = files.filter(f -> !f.getFileName().toString().endsWith(".properties") && !f.getFileName().toString().startsWith(".")
                    && !Files.isDirectory(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)).toList();
        }
        if (dumps.isEmpty()) {
            // the dump left (a crash cut its move short): a journal left behind holds its key, and goes
            Files.deleteIfExists(dir.resolve(Journal.NAME));
            Files.deleteIfExists(dir.resolve(Journal.NAME + ".tmp"));
            deleteEmpty(dir);
            return;
        }
        try (Connection c = store.getConnection()) {
            if (!query(c, "select id from dumps where id = ?", 1, id).isEmpty()) {
                return;
            }
        }
        if (dumps.size() != 1) {
            return;
        }
        Path dump = dumps.get(0);
        Map<String, Object> journal = Journal.read(dir);
        if (journal != null && journal.get("request_id") != null && id.equals(journal.get("id"))) {
            resume(journal, dump);
            return;
        }
        // a crash between taking the dump and its settings file left the settings in the drop folder: they go with it
        Path settings = dir.getParent().getParent().resolve(dump.getFileName() + ".properties");
        Path beside = dir.resolve(dump.getFileName() + ".properties");
        if (Files.isRegularFile(settings, java.nio.file.LinkOption.NOFOLLOW_LINKS) && !Files.exists(beside)) {
            try {
                com.odooupgradecourier.support.Moves.moveNew(settings, beside);
            } catch (IOException e) {
                LOG.warn("{}: its settings file could not be taken with it: {}", dump.getFileName(), e.getMessage());
            }
        }
        receive(id, dump.getFileName().toString(), dump.toString());
        LOG.info("{}: taken from the drop folder before the last stop, recorded now", dump.getFileName());
    }

    /** An empty folder goes (with the empty folders in it that a move cut short left); anything else stays. */
    private static void deleteEmpty(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            if (all.allMatch(Files::isDirectory)) {
                com.odooupgradecourier.support.Moves.deleteTree(dir);
            }
        }
    }

    /**
     * A dump in custody whose row the store lost, but whose journal names its platform request: recorded again as the
     * journal says, so it goes on with the same request (created: uploaded again; uploaded or later: asked for its status,
     * never processed twice).
     */
    private void resume(Map<String, Object> journal, Path dump) throws SQLException {
        String id = (String) journal.get("id");
        Step step = Step.of(String.valueOf(journal.get("step"))).compareTo(Step.UPLOADED) >= 0 ? Step.UPLOADED : Step.CREATED;
        long now = clock.getAsLong();
        List<String> columns = new ArrayList<>(Journal.COLUMNS);
        columns.remove("step");
        StringBuilder sql = new StringBuilder("insert into dumps (path, step, next_attempt_at");
        List<Object> args = new ArrayList<>(List.of(dump.toString(), step.id(), now));
        for (String column : columns) {
            sql.append(", ").append(column);
            args.add(value(column, journal.get(column)));
        }
        sql.append(") values (").append("?, ".repeat(args.size() - 1)).append("?)");
        try (Connection c = store.getConnection()) {
            c.setAutoCommit(false);
            update(c, sql.toString(), args.toArray());
            event(c, id, now, "recovered", null, step, "the store had lost it: taken up again from the journal in custody");
            c.commit();
        }
        LOG.warn("{}: the store had no record of it: taken up again from its journal at step {}, with request {} (not created again)",
                dump.getFileName(), step, journal.get("request_id"));
    }

    // ---------------------------------------------------------------- transitions

    /**
     * Moves the exchange's dump through the named transition: a guarded update of its row (its step as this
     * exchange knows it, and this node's lease), with the columns the transition writes taken from the
     * exchange's properties, recorded in {@code dump_events}.
     *
     * @throws IllegalTransitionException the dump is not in a step the transition starts from, or another
     *                                    worker holds it now
     * @throws DuplicateDumpException     {@code admitted}: another unfinished dump has the same sha256
     */
    public void go(Exchange exchange, String name) throws SQLException, DuplicateDumpException {
        Transition t = Transition.named(name);
        Step from = Step.of(exchange.getProperty("dumpStep", String.class));
        Map<String, Object> values = new LinkedHashMap<>();
        for (String column : t.columns()) {
            String property = PROPERTY_OF.get(column);
            values.put(column, property == null ? null : exchange.getProperty(property));
        }
        long attempts = exchange.getProperty("attempts", 0L, Long.class);
        if (!t.allowedFrom(from)) {
            throw new IllegalTransitionException(exchange.getProperty("fileName") + ": '" + t.id() + "' cannot start from step " + from);
        }
        Step to = t == Transition.RETRY ? Step.of(exchange.getProperty("failedStep", String.class)) : t.target(from);
        try {
            long next = apply(exchange.getProperty("dumpId", String.class), exchange.getProperty("fileName", String.class), t, from, to,
                    values, attempts, exchange.getProperty("requestKey", String.class));
            if (t == Transition.PARK) {
                exchange.setProperty("nextAttemptAt", next);
                exchange.setProperty("nextAttempt", Instant.ofEpochMilli(next).truncatedTo(ChronoUnit.SECONDS).toString());
                exchange.setProperty("attempts", attempts + 1);
            }
        } catch (SQLException e) {
            if (t == Transition.ADMIT && isUniqueViolation(e)) {
                throw duplicate(exchange);
            }
            throw e;
        }
        exchange.setProperty("dumpStep", to.id());
        if (t == Transition.CREATE || t == Transition.UPLOAD) {
            journal(exchange.getProperty("dumpId", String.class));
        }
        if (t == Transition.FAIL || t == Transition.FAIL_RESTORE) {
            exchange.setProperty("failedStep", from.id());
        } else if (t == Transition.RETRY) {
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
            apply(id, fileName, Transition.RETRY, Step.RESTORE_FAILED, Step.RESTORING, java.util.Collections.emptyMap(), 0, null);
            return Step.RESTORING;
        }
        // before its request exists a dump starts over: inspected again, its settings (perhaps corrected) read again
        Step to = failedAt == Step.ADMITTED ? Step.RECEIVED : failedAt;
        apply(id, fileName, Transition.RETRY, Step.FAILED, to, java.util.Collections.singletonMap("path", path), 0, null);
        return to;
    }

    /**
     * Writes the journal beside a dump in custody (its own folder {@code data/dumps/<id>/}) from its row: what a lost
     * store needs to go on with the same request. A journal that cannot be written is said, and the dump goes on.
     */
    public void journal(String id) {
        try (Connection c = store.getConnection()) {
            List<Map<String, Object>> rows = query(c, "select * from dumps where id = ? and request_id is not null", 1, id);
            Path folder = rows.isEmpty() || rows.get(0).get("path") == null ? null : Path.of((String) rows.get(0).get("path")).getParent();
            if (folder != null && folder.getFileName() != null && folder.getFileName().toString().equals(id)) {
                Journal.write(folder, rows.get(0));
            }
        } catch (SQLException | IOException e) {
            LOG.warn("{}: its journal could not be written in custody ({}): a store lost now would not know its request", id,
                    e.getMessage());
        }
    }

    /** The file name of another unfinished dump with this sha256, or null. */
    public String twinInFlight(String sha256, String id) throws SQLException {
        if (sha256 == null) {
            return null;
        }
        try (Connection c = store.getConnection()) {
            List<Map<String, Object>> twin = query(c, "select file_name from dumps where sha256 = ? and id <> ? "
                    + "and step not in (" + LEFT_PLATFORM + ")", 1, sha256, id);
            return twin.isEmpty() ? null : (String) twin.get(0).get("file_name");
        }
    }

    /** The pieces of the dump the platform acknowledged for this request (an SFTP upload resumes with the others). */
    public com.odooupgradecourier.transfer.Ranges uploaded(String id, long requestId) throws SQLException {
        com.odooupgradecourier.transfer.Ranges done = new com.odooupgradecourier.transfer.Ranges();
        try (Connection c = store.getConnection()) {
            for (Map<String, Object> r : query(c, "select start_byte, end_byte from upload_pieces where dump_id = ? and request_id = ?",
                    Integer.MAX_VALUE, id, requestId)) {
                done.add(((Number) r.get("start_byte")).longValue(), ((Number) r.get("end_byte")).longValue());
            }
        }
        return done;
    }

    /**
     * Records a piece of the dump the platform acknowledged, as soon as it did, fenced like a platform call: a node that
     * no longer holds the dump (another took it over and may have emptied the remote file) records nothing.
     */
    public void uploaded(String id, long requestId, long start, long end) throws SQLException {
        try (Connection c = store.getConnection()) {
            if (!renew(c, id)) {
                throw new IllegalTransitionException("dump " + id + ": this node (" + node + ") no longer holds it: another node goes "
                        + "on with its upload");
            }
            update(c, "insert into upload_pieces (dump_id, request_id, start_byte, end_byte) values (?, ?, ?, ?)", id, requestId, start, end);
        }
    }

    /** Once the platform holds the whole dump (its size checked), the record of its pieces is not needed any more. */
    public void forgetUploaded(@ExchangeProperty("dumpId") String id) throws SQLException {
        try (Connection c = store.getConnection()) {
            update(c, "delete from upload_pieces where dump_id = ?", id);
        }
    }

    /** Whether this service can read the request keys the store keeps encrypted (courier.store.secret is set). */
    public boolean opensKeys() {
        return keys != KeyCipher.NONE;
    }

    /** The dump's file as it is now (a retry brought it back into custody): later checks compare with this. */
    public void restamp(String id, String stamp) throws SQLException {
        try (Connection c = store.getConnection()) {
            update(c, "update dumps set file_stamp = ? where id = ?", stamp, id);
        }
    }

    /** Where a dump's file is now, written without changing its step. */
    public void movedTo(String id, String path) throws SQLException {
        try (Connection c = store.getConnection()) {
            update(c, "update dumps set path = ?, updated_at = CURRENT_TIMESTAMP where id = ?", path, id);
        }
    }

    /**
     * With {@code courier.store.secret} set: every key and platform URL still stored as it came (written before the
     * secret was set) is sealed now.
     */
    public int sealAll() throws SQLException {
        if (keys == KeyCipher.NONE) {
            return 0;
        }
        int sealed = 0;
        try (Connection c = store.getConnection()) {
            for (Map<String, Object> row : query(c, "select id, request_key, status_url, download_url, notes_url from dumps", Integer.MAX_VALUE)) {
                for (String column : SEALED) {
                    Object v = row.get(column);
                    if (v instanceof String s && !KeyCipher.isSealed(s)) {
                        sealed += update(c, "update dumps set " + column + " = ? where id = ?", keys.seal(s), row.get("id"));
                    }
                }
            }
        }
        return sealed;
    }

    /** The request key (or token) of a dump, opened; null when it has none. */
    public String requestKey(String id) throws SQLException {
        try (Connection c = store.getConnection()) {
            List<Map<String, Object>> rows = query(c, "select request_key from dumps where id = ?", 1, id);
            return rows.isEmpty() || rows.get(0).get("request_key") == null ? null : keys.open((String) rows.get(0).get("request_key"));
        }
    }

    /** The row of a dump by its id, or the newest failed one with that file name; null when there is none. */
    public Map<String, Object> find(String idOrName) throws SQLException {
        try (Connection c = store.getConnection()) {
            List<Map<String, Object>> rows = query(c, "select * from dumps where id = ?", 1, idOrName);
            if (rows.isEmpty()) {
                rows = query(c, "select * from dumps where file_name = ? order by case when step = 'failed' then 0 else 1 end, "
                        + "received_millis desc", 1, idOrName);
            }
            return rows.isEmpty() ? null : rows.get(0);
        }
    }

    /**
     * One guarded update: from {@code from} to {@code to} by {@code t}, writing {@code values} (by column) and what
     * the transition says of attempts, errors and when the dump is due, recorded in {@code dump_events}.
     *
     * @return when the dump is due next (0 when not due)
     */
    private long apply(String id, String fileName, Transition t, Step from, Step to, Map<String, Object> values, long attempts,
                       String requestKey) throws SQLException {
        if (!t.allowedFrom(from)) {
            throw new IllegalTransitionException(fileName + ": '" + t.id() + "' cannot start from step " + from);
        }
        long now = clock.getAsLong();
        long next = 0;
        StringBuilder sql = new StringBuilder("update dumps set step = ?, updated_at = CURRENT_TIMESTAMP");
        List<Object> args = new ArrayList<>(List.of(to.id()));
        for (Map.Entry<String, Object> v : values.entrySet()) {
            sql.append(", ").append(v.getKey()).append(" = ?");
            args.add(v.getKey().equals("request_created_millis") ? now
                    : SEALED.contains(v.getKey()) ? keys.seal((String) v.getValue())
                    : MASKED.contains(v.getKey()) ? Secrets.mask((String) v.getValue(), requestKey)
                    : value(v.getKey(), v.getValue()));
        }
        if (t == Transition.PARK) {
            next = now + backOff(attempts);
            sql.append(", attempts = attempts + 1, next_attempt_at = ?");
            args.add(next);
        } else {
            if (to != from) {
                sql.append(", attempts = 0");
            }
            if (!values.containsKey("last_error")) {
                sql.append(", last_error = null");
            }
            switch (t.due()) {
                case NOW -> next = now;
                case POLL -> next = now + pollMillis;
                default -> next = 0;
            }
            if (next > 0) {
                sql.append(", next_attempt_at = ?");
                args.add(next);
            } else if (t.due() == Transition.Due.NEVER) {
                sql.append(", next_attempt_at = null");
            }
            // NONE: the work that made the transition goes on; the row stays due for a retake if it dies
        }
        if (t == Transition.FAIL) {
            sql.append(", failed_step = ?");
            args.add(from.id());
        } else if (t == Transition.FAIL_RESTORE) {
            sql.append(", failed_step = ?");
            args.add(Step.RESTORING.id());
        } else if (t == Transition.DELIVER || t == Transition.DELIVER_TO_RESTORE) {
            // delivered: the request's key and URLs are needed no more, and kept no longer
            sql.append(", request_key = null, status_url = null, download_url = null, notes_url = null");
        } else if (t == Transition.RETRY) {
            sql.append(", failed_step = null, received_millis = ?, lease_owner = null, lease_until = null");
            args.add(now);
        }
        sql.append(" where id = ? and step = ?");
        args.add(id);
        args.add(from.id());
        if (t != Transition.RETRY) {
            sql.append(" and lease_owner = ?");
            args.add(owner);
        }
        try (Connection c = store.getConnection()) {
            c.setAutoCommit(false);
            try {
                int n = update(c, sql.toString(), args.toArray());
                if (n != 1) {
                    c.rollback();
                    throw new IllegalTransitionException(fileName + ": '" + t.id() + "' refused: the dump is no longer in step " + from
                            + (t == Transition.RETRY ? "" : " or is held by another worker"));
                }
                event(c, id, now, t.id(), from, to, (String) values.get("last_error"));
                c.commit();
                if (t == Transition.DELIVER || t == Transition.DELIVER_TO_RESTORE) {
                    // the request's key is out of the row: out of the file too
                    c.setAutoCommit(true);
                    Store.purge(c);
                }
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        }
        return next;
    }

    /** Writes one column of the exchange's dump without changing its step (e.g. {@code path} after a move). */
    public void update(Exchange exchange, String column) throws SQLException {
        String property = PROPERTY_OF.get(column);
        if (property == null || column.equals("step")) {
            throw new IllegalArgumentException("not a column that can be written alone: " + column);
        }
        try (Connection c = store.getConnection()) {
            update(c, "update dumps set " + column + " = ?, updated_at = CURRENT_TIMESTAMP where id = ?",
                    value(column, exchange.getProperty(property)), exchange.getProperty("dumpId", String.class));
        }
    }

    /**
     * Keeps {@code name} as the name the exchange's dump is delivered under, unless another dump has it (each name is
     * chosen by one dump only, ever). Returns whether the name is this dump's now.
     */
    public boolean claimName(Exchange exchange, String name) throws SQLException {
        try (Connection c = store.getConnection()) {
            return update(c, "update dumps set delivery_name = ? where id = ?", name, exchange.getProperty("dumpId", String.class)) == 1;
        } catch (SQLException e) {
            if (isUniqueViolation(e)) {
                return false;
            }
            throw e;
        }
    }

    /** Whether the dump's lifetime ({@code upgrade.timeout} after it was received) is over. */
    public boolean lifetimeOver(@ExchangeProperty("receivedMillis") Long receivedMillis) {
        return receivedMillis != null && clock.getAsLong() - receivedMillis > lifetimeMillis;
    }

    /** The wait before a parked dump is taken again: the retries' doubling, continued, capped at the longest delay. */
    long backOff(long parkedBefore) {
        long shift = Math.min(30, retryAttempts + parkedBefore);
        return Math.min(maxDelay, retryDelay * (1L << shift));
    }

    private DuplicateDumpException duplicate(Exchange exchange) throws SQLException {
        String sha = exchange.getProperty("dumpSha256", String.class);
        List<Map<String, Object>> twin;
        try (Connection c = store.getConnection()) {
            twin = query(c, "select file_name, request_id, step from dumps where sha256 = ? and id <> ? "
                    + "and step not in (" + LEFT_PLATFORM + ")", 1, sha, exchange.getProperty("dumpId", String.class));
        }
        Map<String, Object> t = twin.isEmpty() ? Map.of() : twin.get(0);
        return new DuplicateDumpException("the same dump (sha256 " + sha + ") is already in flight as " + t.get("file_name")
                + ", request " + t.get("request_id") + ", step " + t.get("step")
                + ": it is not sent a second time. Wait for that one to be delivered, or drop a different dump.");
    }

    private static boolean isUniqueViolation(SQLException e) {
        return "23505".equals(e.getSQLState()) || String.valueOf(e.getMessage()).contains("UNIQUE constraint failed");
    }

    private void event(Connection c, String id, long at, String transition, Step from, Step to, String detail) throws SQLException {
        update(c, "insert into dump_events (dump_id, at_millis, transition, from_step, to_step, node, detail) values (?, ?, ?, ?, ?, ?, ?)",
                id, at, transition, from == null ? null : from.id(), to.id(), node, detail);
    }

    /** A property's value as its column holds it: numbers as 64-bit integers, the rest as text. */
    private static Object value(String column, Object value) {
        if (value == null) {
            return null;
        }
        if (!NUMBERS.contains(column)) {
            return String.valueOf(value);
        }
        String text = String.valueOf(value).trim();
        return text.isEmpty() ? null : Long.valueOf(text);
    }

    // ---------------------------------------------------------------- JDBC

    static int update(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            bind(s, args);
            return s.executeUpdate();
        }
    }

    /** The rows a query gives (at most {@code max}), each as a map of lower-case column names to values. */
    public static List<Map<String, Object>> query(Connection c, String sql, int max, Object... args) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            bind(s, args);
            s.setMaxRows(max);
            try (ResultSet rs = s.executeQuery()) {
                ResultSetMetaData md = rs.getMetaData();
                List<Map<String, Object>> rows = new ArrayList<>();
                while (rs.next()) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    for (int i = 1; i <= md.getColumnCount(); i++) {
                        row.put(md.getColumnLabel(i).toLowerCase(Locale.ROOT), rs.getObject(i));
                    }
                    rows.add(row);
                }
                return rows;
            }
        }
    }

    private static void bind(PreparedStatement s, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a == null) {
                s.setNull(i + 1, Types.NULL);
            } else if (a instanceof Long l) {
                s.setLong(i + 1, l);
            } else if (a instanceof Integer n) {
                s.setInt(i + 1, n);
            } else {
                s.setString(i + 1, String.valueOf(a));
            }
        }
    }

    private static Map<String, String> columns(String... pairs) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return Map.copyOf(m);
    }
}

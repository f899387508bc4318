package com.odooupgradecourier.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import javax.sql.DataSource;
import org.apache.camel.ExchangeProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue of dumps in the store, like a mail queue's: what is due, and who holds it. A node takes every dump that is
 * due and held by no one in one statement (a lease of {@code courier.lease-time} for this node on each), works on it,
 * renews its leases with a heartbeat, and lets go of it when its step ends; a node that dies stops renewing, and its dumps
 * are due again when their leases run out. Before anything the platform or the output sees, the node passes the
 * {@link #fence}: it must still hold the dump.
 *
 * <p>Taking, renewing and letting go are each one step under one lock (the check of what this node works on, the update,
 * the change of what it works on): the heartbeat never renews a lease being let go, nor forgets one just taken again.
 */
public class Queue {
    private static final Logger LOG = LoggerFactory.getLogger("courier");
    private static final int CLAIM_BATCH = 100;
    /** The steps nothing takes up (but a retry), as an SQL list. */
    private static final String FINAL = Step.sqlList(Step::isFinal);

    private final DataSource store;
    private final String node;
    private final long leaseMillis;
    private final long aheadMillis;
    private final LongSupplier clock;
    private final Set<String> held = ConcurrentHashMap.newKeySet();
    private final Object leases = new Object();
    /** Who holds the leases this node takes: the node id, and once registered its instance ({@code node#instance}). */
    private volatile String owner;
    private volatile Nodes nodes;

    /**
     * @param node        this instance's name: the owner of the leases it takes
     * @param leaseMillis how long a lease holds without a heartbeat ({@link #renewLeases()})
     */
    public Queue(DataSource store, String node, long leaseMillis, LongSupplier clock) {
        this(store, node, leaseMillis, 0, clock);
    }

    /**
     * @param aheadMillis what falls due this much later is taken at a periodic look: half the time between two looks at
     *                    the store ({@code courier.queue-interval}), so work is taken at the look nearest its time, not at
     *                    the first look after it (a status asked every second, just after a look, was otherwise asked
     *                    every 2 s)
     */
    public Queue(DataSource store, String node, long leaseMillis, long aheadMillis, LongSupplier clock) {
        this.store = store;
        this.node = node;
        this.owner = node;
        this.leaseMillis = leaseMillis;
        this.aheadMillis = aheadMillis;
        this.clock = clock;
    }

    public String node() {
        return node;
    }

    /** Who holds the leases this node takes, as the guarded updates name it. */
    String owner() {
        return owner;
    }

    /**
     * This node's instance holds its node id in the store ({@link Nodes}): the leases it takes name the instance, so an
     * instance that lost its node id to another (it was stalled) is refused at its next step, and takes no more work.
     */
    public void registeredAs(Nodes registered) {
        this.nodes = registered;
        this.owner = node + "#" + registered.instance();
    }

    /** The node a lease owner names ({@code node#instance} or {@code node}). */
    static String nodeOf(Object owner) {
        String o = String.valueOf(owner);
        int hash = o.lastIndexOf('#');
        return hash > 0 ? o.substring(0, hash) : o;
    }

    /** A dump just taken into custody: recorded as {@code received}, due at once. */
    public void receive(@ExchangeProperty("dumpId") String id, @ExchangeProperty("fileName") String fileName,
                        @ExchangeProperty("dumpPath") String path) throws SQLException {
        long now = clock.getAsLong();
        try (Connection c = store.getConnection()) {
            c.setAutoCommit(false);
            Rows.update(c, "insert into dumps (id, file_name, path, step, received_millis, next_attempt_at) values (?, ?, ?, ?, ?, ?)",
                    id, fileName, path, Step.RECEIVED.id(), now, now);
            Dumps.event(c, id, now, "received", null, Step.RECEIVED, node, null);
            c.commit();
        }
    }

    /**
     * Takes every dump that is due and held by no one, in one statement: a lease for this node on each (the statement
     * checks again, row by row, that it is free, so two nodes never take the same dump), and the rows it took, oldest due
     * first. A dump this node still works on (its lease ran out while the store was slow) is not handed out twice.
     */
    public List<Map<String, Object>> claimDue() throws SQLException {
        return claimDue(false);
    }

    /**
     * As {@link #claimDue()}; at the periodic look ({@code courier.queue-interval}) what falls due before the middle of
     * the next interval is taken too, at the look nearest its time (a look that follows a step's end takes only what is
     * due: a short wait before a retry stays a wait).
     */
    public synchronized List<Map<String, Object>> claimDue(Boolean periodicLook) throws SQLException {
        long ahead = Boolean.TRUE.equals(periodicLook) ? aheadMillis : 0;
        if (nodes != null && !nodes.held()) {
            return List.of(); // another instance took this node id over: no more work here
        }
        long now = clock.getAsLong();
        List<Map<String, Object>> claimed = new ArrayList<>();
        try (Connection c = store.getConnection();
             PreparedStatement s = c.prepareStatement("update dumps set lease_taken_from = lease_owner, lease_owner = ?, lease_until = ? "
                     + "where id in (select id from dumps where step not in (" + FINAL + ") and next_attempt_at <= ? and (lease_until is null "
                     + "or lease_until < ?) order by next_attempt_at, received_millis limit " + CLAIM_BATCH + ") "
                     + "and (lease_until is null or lease_until < ?) returning *")) {
            synchronized (leases) {
                Rows.bind(s, owner, now + leaseMillis, now + ahead, now, now);
                List<Map<String, Object>> rows;
                try (ResultSet rs = s.executeQuery()) {
                    rows = Rows.rows(rs);
                }
                for (Map<String, Object> row : rows) {
                    if (held.add((String) row.get("id"))) {
                        claimed.add(row);
                    }
                }
            }
        }
        claimed.sort(Comparator.comparing((Map<String, Object> r) -> ((Number) r.get("next_attempt_at")).longValue())
                .thenComparing(r -> ((Number) r.get("received_millis")).longValue()));
        for (Map<String, Object> row : claimed) {
            if (row.get("lease_taken_from") != null) {
                LOG.info("{}: taken up again at step {} ({} stopped working on it)", row.get("file_name"), row.get("step"),
                        nodeOf(row.get("lease_taken_from")));
            }
        }
        return claimed;
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
                Rows.update(c, "update dumps set lease_owner = null, lease_until = null where id = ? and lease_owner = ?", id, owner);
            } catch (StoreUnavailableException e) {
                // its lease runs out, and it is taken up again then
                LOG.debug("Dump {}: let go here; the store did not answer ({})", id, e.getMessage());
            } finally {
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
                Rows.update(c, "update dumps set lease_owner = null, lease_until = null where lease_owner = ?", owner);
            }
        }
    }

    /**
     * The heartbeat: this instance's hold on its node id, and every dump this node works on, keep their leases; one another
     * node took meanwhile is let go here.
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
            fence(c, id, fileName);
        }
    }

    /** {@link #fence} on a connection of the caller's (a write that must be fenced in the same breath). */
    public void fence(Connection c, String id, String what) throws SQLException {
        if (!renew(c, id)) {
            throw new IllegalTransitionException(what + ": this node (" + node + ") no longer holds it: another node goes on with it");
        }
    }

    /**
     * Renews this node's lease on a dump for a whole lease time, counted from when it is written (not from before a slow
     * store answered). False, and the dump no longer counted as held here, when another node holds it now.
     */
    private boolean renew(Connection c, String id) throws SQLException {
        synchronized (leases) {
            if (Rows.update(c, "update dumps set lease_until = ? where id = ? and lease_owner = ?", clock.getAsLong() + leaseMillis, id,
                    owner) == 1) {
                return true;
            }
            held.remove(id);
            return false;
        }
    }

    /**
     * At start: leases this node's earlier instances held (in a life that ended with a crash) are given up, so what they
     * worked on is due again at once (the node id is this instance's now: none of them runs).
     */
    public void recover() throws SQLException {
        try (Connection c = store.getConnection()) {
            for (Map<String, Object> row : Rows.query(c, "select id, file_name, step, lease_owner from dumps where lease_owner is not null",
                    Integer.MAX_VALUE)) {
                if (node.equals(nodeOf(row.get("lease_owner")))) {
                    LOG.info("{}: taken up again at step {} (the service stopped while working on it)", row.get("file_name"), row.get("step"));
                    Rows.update(c, "update dumps set lease_owner = null, lease_until = null where id = ? and lease_owner = ?", row.get("id"),
                            row.get("lease_owner"));
                }
            }
        }
    }
}

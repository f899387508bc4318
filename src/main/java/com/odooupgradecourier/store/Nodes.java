package com.odooupgradecourier.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.LongSupplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One live instance per node id, held in the store (a row per node id with its own heartbeat), where it cannot
 * vanish with a folder: the leases of the dumps are held by node, so two live instances of one name would work as
 * one and undo each other's work.
 *
 * <p>An instance registers at start and renews its row with the leases' heartbeat. Another instance may take the node
 * id over only when the row's heartbeat ran out, or when the row names a process of this very host that is gone (a
 * {@code kill -9}: its successor starts at once, without waiting). An instance whose row was taken over learns it at
 * its next heartbeat and stops working ({@link #held()} false): its leases name its instance and are refused too.
 */
public class Nodes extends org.apache.camel.support.service.ServiceSupport {
    private static final Logger LOG = LoggerFactory.getLogger("courier");
    private final DataSource store;
    private final String node;
    private final String instance = UUID.randomUUID().toString().substring(0, 8);
    private final long heartbeatMillis;
    private final LongSupplier clock;
    private volatile boolean held;

    /**
     * @param node            the node id ({@code courier.cluster.node-id})
     * @param heartbeatMillis how long a heartbeat holds ({@code courier.lease-time})
     */
    public Nodes(DataSource store, String node, long heartbeatMillis, LongSupplier clock) {
        this.store = store;
        this.node = node;
        this.heartbeatMillis = heartbeatMillis;
        this.clock = clock;
    }

    /** This instance's own name among the instances that had this node id: the owner of its leases is {@code node#instance}. */
    public String instance() {
        return instance;
    }

    /** Whether this instance holds its node id (registered, and not taken over since). */
    public boolean held() {
        return held;
    }

    /**
     * Registers this instance as the live one of its node id.
     *
     * @throws IllegalStateException another live instance has this node id
     */
    public void register() throws SQLException {
        long now = clock.getAsLong();
        ProcessHandle self = ProcessHandle.current();
        long started = self.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
        String host = hostName();
        try (Connection c = store.getConnection()) {
            c.setAutoCommit(false);
            try {
                List<Map<String, Object>> rows = Rows.query(c, "select * from nodes where node_id = ?", 1, node);
                if (rows.isEmpty()) {
                    Rows.update(c, "insert into nodes (node_id, instance, host, pid, started_millis, heartbeat_until) values (?, ?, ?, ?, ?, ?)",
                            node, instance, host, self.pid(), started, now + heartbeatMillis);
                } else {
                    Map<String, Object> r = rows.get(0);
                    long until = ((Number) r.get("heartbeat_until")).longValue();
                    boolean gone = until < now || host.equals(r.get("host")) && !alive(r);
                    if (!gone) {
                        throw new IllegalStateException("another instance with the node id " + node + " is running (process "
                                + r.get("pid") + " on " + r.get("host") + ", its heartbeat in the store is " + Math.max(0, (now - until
                                + heartbeatMillis) / 1000) + " s old): give each instance its own courier.cluster.node-id (default: "
                                + "the host name and the HTTP port)");
                    }
                    if (Rows.update(c, "update nodes set instance = ?, host = ?, pid = ?, started_millis = ?, heartbeat_until = ? "
                            + "where node_id = ? and instance = ?", instance, host, self.pid(), started, now + heartbeatMillis, node,
                            r.get("instance")) != 1) {
                        throw new IllegalStateException("another instance with the node id " + node + " is running (it registered "
                                + "at this very moment): give each instance its own courier.cluster.node-id");
                    }
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
        held = true;
    }

    /**
     * The heartbeat: this instance's row is renewed. False, with one ERROR line, when another instance took the node id
     * over (this one was stalled longer than its heartbeat): from then on this instance takes no work.
     */
    public boolean heartbeat() throws SQLException {
        if (!held) {
            return false;
        }
        try (Connection c = store.getConnection()) {
            if (Rows.update(c, "update nodes set heartbeat_until = ? where node_id = ? and instance = ?",
                    clock.getAsLong() + heartbeatMillis, node, instance) == 1) {
                return true;
            }
        }
        held = false;
        LOG.error("Another instance took over the node id {} (this one was stalled longer than courier.lease-time): this instance "
                + "takes no more work; restart it, with a node id of its own if both are to run", node);
        return false;
    }

    /** The service stops (a graceful stop of the context, however it was asked): the node id is let go. */
    @Override
    protected void doStop() throws SQLException {
        unregister();
    }

    /** Lets go of the node id (a graceful stop): the next instance of this id starts at once. */
    public void unregister() throws SQLException {
        if (!held) {
            return;
        }
        held = false;
        try (Connection c = store.getConnection()) {
            Rows.update(c, "delete from nodes where node_id = ? and instance = ?", node, instance);
        }
    }

    /** Whether the process a row names still runs (on this host): the same pid, started at the same moment. */
    private static boolean alive(Map<String, Object> row) {
        if (!(row.get("pid") instanceof Number pid)) {
            return true;
        }
        long started = row.get("started_millis") instanceof Number n ? n.longValue() : 0;
        return ProcessHandle.of(pid.longValue()).filter(ProcessHandle::isAlive)
                .map(p -> started == 0 || p.info().startInstant().map(Instant::toEpochMilli).orElse(0L) == started).orElse(false);
    }

    static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "localhost";
        }
    }
}

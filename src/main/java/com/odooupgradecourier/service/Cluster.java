package com.odooupgradecourier.service;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.camel.cluster.CamelClusterEventListener;
import org.apache.camel.cluster.CamelClusterService;
import org.apache.camel.cluster.CamelClusterView;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who leads: the routes that start work (the drop folder, the queue) run on the leader of the namespace
 * {@value #NAMESPACE} only ({@code master:courier:…}), elected by Camel's cluster service. This follows the
 * election for {@code GET /cluster}, the status page, the metric {@code courier_cluster_leader}, and the queue
 * (a node that no longer leads takes no new work; what it still does is fenced by its leases in the store).
 */
public class Cluster extends org.apache.camel.support.service.ServiceSupport {
    /** The namespace of the courier's leader election. */
    public static final String NAMESPACE = "courier";
    private static final Logger LOG = LoggerFactory.getLogger("courier");
    private final String node;
    private final boolean shared;
    private final AtomicReference<Instant> leaderSince = new AtomicReference<>();
    private volatile Instant followerSince = Instant.now();

    /**
     * @param node   this instance's name (one live instance per node id is held in the store: {@code store.Nodes})
     * @param shared whether other instances share the election (courier.cluster.lock-dir is set)
     */
    public Cluster(String node, boolean shared) {
        this.node = node;
        this.shared = shared;
    }

    /** Follows the leadership of {@link #NAMESPACE} in {@code service}. */
    public void follow(CamelClusterService service) throws Exception {
        followerSince = Instant.now();
        CamelClusterView view = service.getView(NAMESPACE);
        view.addEventListener((CamelClusterEventListener.Leadership) (v, leader) -> leads(leader != null && leader.isLocal()));
        leads(view.getLeader().map(m -> m.isLocal()).orElse(false));
        if (shared && !leading()) {
            LOG.info("This node ({}) stands by until it leads (one node of the cluster works at a time)", node);
        }
    }

    private synchronized void leads(boolean leading) {
        boolean was = leaderSince.get() != null;
        if (leading && !was) {
            leaderSince.set(Instant.now());
            if (shared) {
                LOG.info("This node ({}) leads now: it takes dumps from the drop folder and works on them", node);
            }
        } else if (!leading && was) {
            leaderSince.set(null);
            followerSince = Instant.now();
            LOG.info("This node ({}) no longer leads: it stands by", node);
        }
    }

    /** Whether this node leads now. */
    public boolean leading() {
        return leaderSince.get() != null;
    }

    /** Whether other instances share the election (and the store, and the folders). */
    public boolean shared() {
        return shared;
    }

    public String node() {
        return node;
    }

    /** {@code GET /cluster}: {@code {"node": …, "leader": true|false, "since": …}}. */
    public Map<String, Object> state() {
        Instant since = leaderSince.get();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("node", node);
        m.put("leader", since != null);
        m.put("since", (since != null ? since : followerSince).truncatedTo(ChronoUnit.SECONDS).toString());
        m.put("shared", shared);
        return m;
    }
}

package com.odooupgradecourier;

import com.odooupgradecourier.dump.Custody;
import com.odooupgradecourier.dump.DumpInspector;
import com.odooupgradecourier.dump.DumpSettings;
import com.odooupgradecourier.dump.Orphans;
import com.odooupgradecourier.dump.SettleHashes;
import com.odooupgradecourier.failure.Bounces;
import com.odooupgradecourier.failure.ErrorRecords;
import com.odooupgradecourier.failure.Faults;
import com.odooupgradecourier.failure.RetryLog;
import com.odooupgradecourier.platform.JsonRpc;
import com.odooupgradecourier.platform.Platform;
import com.odooupgradecourier.rehearsal.ProductionGuard;
import com.odooupgradecourier.rehearsal.RehearsalSchedules;
import com.odooupgradecourier.rehearsal.Rehearsals;
import com.odooupgradecourier.rehearsal.Source;
import com.odooupgradecourier.rehearsal.SourceDumps;
import com.odooupgradecourier.restore.RestoreSettings;
import com.odooupgradecourier.restore.Restorer;
import com.odooupgradecourier.service.Checks;
import com.odooupgradecourier.service.Cluster;
import com.odooupgradecourier.service.Health;
import com.odooupgradecourier.service.HttpAccess;
import com.odooupgradecourier.service.Metrics;
import com.odooupgradecourier.service.Notifications;
import com.odooupgradecourier.service.Retry;
import com.odooupgradecourier.service.SourcesView;
import com.odooupgradecourier.service.StatusView;
import com.odooupgradecourier.service.Overview;
import com.odooupgradecourier.service.DumpPage;
import com.odooupgradecourier.store.Reports;
import com.odooupgradecourier.store.Dumps;
import com.odooupgradecourier.store.Nodes;
import com.odooupgradecourier.store.Queue;
import com.odooupgradecourier.store.Rows;
import com.odooupgradecourier.store.Store;
import com.odooupgradecourier.support.KeyCipher;
import com.odooupgradecourier.support.Moves;
import com.odooupgradecourier.support.RetryPolicy;
import com.odooupgradecourier.support.Secrets;
import com.odooupgradecourier.support.Settings;
import com.odooupgradecourier.transfer.Delivery;
import com.odooupgradecourier.transfer.Downloads;
import com.odooupgradecourier.transfer.Progress;
import com.odooupgradecourier.transfer.Rsync;
import com.odooupgradecourier.transfer.SftpTransfers;
import com.odooupgradecourier.transfer.TransferSlots;
import com.odooupgradecourier.transfer.UploadPieces;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.PropertyInject;
import org.apache.camel.component.file.cluster.FileLockClusterService;
import org.apache.camel.spi.Registry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root: every bean the routes call, made once from the settings ({@code application.properties},
 * each key overridden by its environment variable) and bound in the registry under the name the routes use. The settings
 * were checked before ({@link SettingsCheck}): what is injected here has its type.
 */
public class CourierConfiguration implements CamelConfiguration {
    private static final Logger LOG = LoggerFactory.getLogger(CourierConfiguration.class);

    @PropertyInject(value = "courier.data-dir", defaultValue = "data") private String dataDir;
    @PropertyInject(value = "courier.drop-dir", defaultValue = "drop") private String dropDir;
    @PropertyInject(value = "courier.failed-dir", defaultValue = "failed") private String failedDir;
    @PropertyInject(value = "courier.output-uri", defaultValue = "file:out") private String outputUri;
    @PropertyInject(value = "upgrade.api", defaultValue = "v1") private String api;
    @PropertyInject(value = "upgrade.api-url", defaultValue = "") private String apiUrl;
    @PropertyInject(value = "upgrade.download-hosts", defaultValue = "") private String downloadHosts;
    @PropertyInject(value = "courier.store.url", defaultValue = "") private String storeUrl;
    @PropertyInject(value = "courier.store.user", defaultValue = "") private String storeUser;
    @PropertyInject(value = "courier.store.password", defaultValue = "") private String storePassword;
    @PropertyInject(value = "courier.store.secret", defaultValue = "") private String storeSecret;
    @PropertyInject(value = "courier.lease-time", defaultValue = "20") private long leaseSeconds;
    @PropertyInject(value = "upgrade.poll-interval", defaultValue = "60") private long pollSeconds;
    @PropertyInject(value = "courier.queue-interval", defaultValue = "1000") private long queueIntervalMillis;
    @PropertyInject(value = "upgrade.retry.attempts", defaultValue = "6") private int retryAttempts;
    @PropertyInject(value = "upgrade.retry.delay", defaultValue = "2000") private long retryDelay;
    @PropertyInject(value = "upgrade.retry.max-delay", defaultValue = "120000") private long retryMaxDelay;
    @PropertyInject(value = "upgrade.timeout", defaultValue = "604800") private long lifetimeSeconds;
    @PropertyInject(value = "courier.cluster.node-id", defaultValue = "") private String nodeId;
    @PropertyInject(value = "courier.cluster.lock-dir", defaultValue = "") private String lockDir;
    @PropertyInject(value = "courier.cluster.acquire-lock-delay", defaultValue = "500") private long acquireLockDelay;
    @PropertyInject(value = "courier.cluster.acquire-lock-interval", defaultValue = "2000") private long acquireLockInterval;
    @PropertyInject(value = "courier.cluster.heartbeat-timeout-multiplier", defaultValue = "5") private int heartbeatMultiplier;
    @PropertyInject(value = "courier.http-host", defaultValue = "127.0.0.1") private String httpHost;
    @PropertyInject(value = "courier.http-port", defaultValue = "8080") private String httpPort;
    @PropertyInject(value = "courier.http-token", defaultValue = "") private String httpToken;
    @PropertyInject(value = "courier.http-host-names", defaultValue = "") private String httpHostNames;
    @PropertyInject(value = "courier.max-parallel-transfers", defaultValue = "2") private int parallelTransfers;
    @PropertyInject(value = "courier.progress-interval", defaultValue = "30") private long progressSeconds;
    @PropertyInject(value = "courier.settle-time", defaultValue = "5000") private long settleMillis;
    @PropertyInject(value = "courier.settle-timeout", defaultValue = "30000") private long settleTimeoutMillis;
    @PropertyInject(value = "upgrade.transfer", defaultValue = "auto") private String transfer;
    @PropertyInject(value = "upgrade.sftp-threshold", defaultValue = "64MB") private String sftpThreshold;
    @PropertyInject(value = "upgrade.sftp.channels", defaultValue = "8") private String sftpChannels;
    @PropertyInject(value = "upgrade.sftp.known-hosts", defaultValue = "") private String sftpKnownHosts;
    @PropertyInject(value = "upgrade.rsync.known-hosts", defaultValue = "") private String rsyncKnownHosts;
    @PropertyInject(value = "camel.main.name", defaultValue = "camel-1") private String camelName;

    @Override
    public void configure(CamelContext context) throws Exception {
        try {
            Registry registry = context.getRegistry();
            // {{path:courier.data-dir}} in the routes: a folder setting as an absolute path
            context.getPropertiesComponent().addPropertiesFunction(new com.odooupgradecourier.support.PathFunction(context));
            Path data = Path.of(dataDir).toAbsolutePath();
            folders(data);
            protocol(context);
            DataSource store = store(data);
            registry.bind("store", store);
            Rows rows = new Rows(store, keys(store));
            Queue queue = new Queue(store, node(), leaseSeconds * 1000, queueIntervalMillis / 2, System::currentTimeMillis);
            // the heartbeat (routes/queue.yaml) renews every lease four times in its time
            context.getPropertiesComponent().addOverrideProperty("courier.lease-renewal", String.valueOf(Math.max(250, leaseSeconds * 250)));
            Dumps dumps = new Dumps(rows, queue, pollSeconds * 1000, new RetryPolicy(retryAttempts, retryDelay, retryMaxDelay),
                    lifetimeSeconds * 1000, System::currentTimeMillis);
            registry.bind("rows", rows);
            registry.bind("queue", queue);
            registry.bind("dumps", dumps);
            // one live instance per node id, held in the store: the leases are held by node, so two of one name would work as one
            Nodes nodes = new Nodes(store, node(), leaseSeconds * 1000, System::currentTimeMillis);
            nodes.register();
            queue.registeredAs(nodes);
            context.addService(nodes, true, true);
            Cluster cluster = cluster(context, data);
            int sealed = rows.sealAll();
            if (sealed > 0) {
                LOG.info("{} request key(s) and URL(s) kept as they came are encrypted now (courier.store.secret)", sealed);
            }
            Custody custody = new Custody(data);
            Orphans orphans = new Orphans(rows, queue, dumps, Path.of(dropDir).toAbsolutePath().resolve(".courier"), custody.dumpsDir());
            registry.bind("custody", custody);
            registry.bind("orphans", orphans);
            // what was in flight when the service last stopped is taken up again by the queue, like anything due
            queue.recover();
            orphans.recover(!cluster.shared());
            dumpBeans(context, store);
            transferBeans(context, data, store, rows, queue);
            serviceBeans(context, data, store, rows, queue, dumps, cluster, custody);
            rehearsalBeans(context, store, dumps, custody);
            context.addStartupListener(new ReadyLine(storeUrl.isBlank() ? "SQLite " + data.resolve("courier.db") : Secrets.maskUri(storeUrl)));
        } catch (IllegalStateException | IOException | java.sql.SQLException | IllegalArgumentException e) {
            throw new IllegalStateException("Odoo Upgrade Courier cannot start: " + e.getMessage(), e);
        }
    }

    /** The data folder is the service's alone; the folders people share with it (drop, output, failed) are its group's. */
    private void folders(Path data) throws IOException {
        Files.createDirectories(data);
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
        sharedWithGroup(Path.of(dropDir));
        sharedWithGroup(Path.of(failedDir));
        Path out = Delivery.localFolder(outputUri);
        if (out != null) {
            sharedWithGroup(out);
        }
        // what a crash left half-way: temporary copies of moves
        Moves.removeLeftovers(Path.of(failedDir));
        if (out != null) {
            Moves.removeLeftovers(out);
        }
    }

    /**
     * The protocol's own needs: for Odoo's current protocol, the rsync and ssh programs, and the platform's base URL without
     * v1's path; the settings create needs.
     */
    private void protocol(CamelContext context) {
        if (api.equals("jsonrpc")) {
            List<String> missing = Rsync.missingPrograms();
            if (!missing.isEmpty()) {
                throw new IllegalStateException("upgrade.api = jsonrpc moves dumps with rsync over ssh, and " + String.join(" and ", missing)
                        + " cannot be found on the PATH (Debian: apt-get install rsync openssh-client)");
            }
            if (apiUrl.matches(".*/database/v1/?$")) {
                apiUrl = apiUrl.replaceAll("/database/v1/?$", "");
                context.getPropertiesComponent().addOverrideProperty("upgrade.api-url", apiUrl);
            }
        }
        List<String> missing = new ArrayList<>();
        for (String key : api.equals("jsonrpc") ? List.of("upgrade.api-url", "upgrade.contract", "upgrade.target", "upgrade.aim")
                : List.of("upgrade.api-url", "upgrade.contract", "upgrade.email", "upgrade.target", "upgrade.aim")) {
            if (context.getPropertiesComponent().resolveProperty(key).filter(s -> !s.isBlank()).isEmpty()) {
                missing.add(key + " (" + Settings.envName(key) + ")");
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("missing settings: " + String.join(", ", missing)
                    + ". Set them in application.properties or as environment variables, or run with --simulator for a demo.");
        }
    }

    private DataSource store(Path data) {
        try {
            return Store.open(storeUrl, storeUser, storePassword, data);
        } catch (Exception e) {
            throw new IllegalStateException("the store is not available (courier.store.url = "
                    + (storeUrl.isBlank() ? "SQLite in " + data : Secrets.maskUri(storeUrl)) + "): " + e.getMessage()
                    + ". Check that the database server runs and the settings are right; nothing was picked up.", e);
        }
    }

    /** How request keys are kept at rest: a store that holds sealed keys needs the secret they were sealed with. */
    private KeyCipher keys(DataSource store) throws java.sql.SQLException {
        KeyCipher keys = KeyCipher.of(storeSecret);
        if (keys == KeyCipher.NONE && !storeUrl.isBlank()) {
            LOG.warn("courier.store.secret is not set: the request keys of dumps in flight are kept in the PostgreSQL store as they came, "
                    + "readable by whoever can read its tables (and its backups). Set courier.store.secret (COURIER_STORE_SECRET) to keep "
                    + "them encrypted");
        }
        String sealed = new Rows(store, keys).aSealedKey();
        if (sealed != null && keys == KeyCipher.NONE) {
            throw new IllegalStateException("the store holds encrypted request keys: set courier.store.secret "
                    + "(COURIER_STORE_SECRET) to the value they were written with");
        }
        if (sealed != null) {
            try {
                keys.open(sealed);
            } catch (IllegalStateException e) {
                throw new IllegalStateException("courier.store.secret does not open the request keys in the store: "
                        + "set it to the value they were written with");
            }
        }
        return keys;
    }

    /** This instance's name: courier.cluster.node-id, or the host name and the HTTP port. */
    private String node() {
        if (!nodeId.isBlank()) {
            return nodeId.trim();
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName() + ":" + httpPort;
        } catch (IOException e) {
            return "localhost:" + httpPort;
        }
    }

    /**
     * The election of the node that works (the others stand by): Camel's file-lock cluster service on
     * courier.cluster.lock-dir, shared by the instances; without one, a folder of this instance's own, so it always
     * leads. High availability needs a store the instances share: PostgreSQL.
     */
    private Cluster cluster(CamelContext context, Path data) throws Exception {
        boolean shared = !lockDir.isBlank();
        if (shared && !storeUrl.startsWith("jdbc:postgresql:")) {
            throw new IllegalStateException("courier.cluster.lock-dir is set, but the store is SQLite: instances that stand in "
                    + "for each other must share a PostgreSQL store (courier.store.url = jdbc:postgresql://…)");
        }
        Path root = (shared ? Path.of(lockDir.trim()) : data.resolve("cluster")).toAbsolutePath();
        Files.createDirectories(root);
        FileLockClusterService service = new FileLockClusterService();
        service.setId(node());
        service.setRoot(root.toString());
        service.setAcquireLockDelay(acquireLockDelay, TimeUnit.MILLISECONDS);
        service.setAcquireLockInterval(acquireLockInterval, TimeUnit.MILLISECONDS);
        service.setHeartbeatTimeoutMultiplier(heartbeatMultiplier);
        context.addService(service, true, true);
        Cluster cluster = new Cluster(node(), shared);
        context.getRegistry().bind("clusterService", service);
        context.getRegistry().bind("cluster", cluster);
        context.getRegistry().bind("lockFolderCheck", new Checks.LockFolderCheck(root));
        return cluster;
    }

    /** What takes dumps from the drop folder and looks at them. */
    private void dumpBeans(CamelContext context, DataSource store) {
        Registry registry = context.getRegistry();
        // the drop folder's read lock, which hashes a dump while it settles
        SettleHashes settleHashes = new SettleHashes(settleMillis, Math.max(100, Math.min(1000, settleMillis / 4)), settleTimeoutMillis);
        registry.bind("settleHashes", settleHashes);
        registry.bind("dumpInspector", new DumpInspector(settleHashes));
        Map<String, String> defaults = new LinkedHashMap<>();
        for (String key : List.of("contract", "email", "target", "aim", "timezone")) {
            defaults.put(key, context.getPropertiesComponent().resolveProperty("upgrade." + key).orElse(""));
        }
        registry.bind("dumpSettings", new DumpSettings(defaults, settleTimeoutMillis, store, api.equals("jsonrpc")));
    }

    /** What moves dumps and archives: to and from the platform, and to the output. */
    private void transferBeans(CamelContext context, Path data, DataSource store, Rows rows, Queue queue) throws Exception {
        Registry registry = context.getRegistry();
        Progress progress = new Progress(progressSeconds);
        registry.bind("progress", progress);
        registry.bind("transferSlots", new TransferSlots(parallelTransfers));
        registry.bind("platform", new Platform("sftp".equalsIgnoreCase(context.getPropertiesComponent()
                .resolveProperty("upgrade.download").orElse("url").trim())));
        UploadPieces pieces = new UploadPieces(store, queue);
        registry.bind("uploadPieces", pieces);
        registry.bind("downloads", new Downloads(data, apiUrl, list(downloadHosts)));
        registry.bind("delivery", new Delivery(outputUri, rows));
        if (outputUri.startsWith("sftp:") && !outputUri.matches("(?i).*[?&]strictHostKeyChecking=yes(&.*)?$")) {
            LOG.warn("courier.output-uri {} does not verify the SFTP server's host key (add strictHostKeyChecking=yes and "
                    + "knownHostsFile=…): whoever can get between the two could receive the customers' databases", Secrets.maskUri(outputUri));
        }
        boolean jsonrpc = api.equals("jsonrpc");
        if (jsonrpc) {
            registry.bind("jsonrpc", new JsonRpc(apiUrl, data.resolve("logs")));
            registry.bind("rsync", new Rsync(data, rsyncKnownHosts, progress));
        }
        registry.bind("sftp", new SftpTransfers(data, sftpKnownHosts, transfer, sftpThreshold, sftpChannels, pieces, progress, !jsonrpc));
        Restorer restorer = new Restorer(RestoreSettings.from(Settings.of(k -> context.getPropertiesComponent().resolveProperty(k)
                .orElse(null))), data.resolve("downloads"), context.getRegistry().lookupByNameAndType("dumps", Dumps.class), queue);
        if (restorer.configured()) {
            LOG.info("Delivered archives are restored into new databases on the PostgreSQL server {} ({})", restorer.server(),
                    restorer.checkTools());
            if (restorer.ownedByTheConfiguredRole()) {
                LOG.warn("courier.restore.owner is not set: restored databases belong to courier.restore.user, a role that may make "
                        + "roles and databases; whoever uses a database as that role runs the archive's triggers with those rights. "
                        + "Set courier.restore.owner to the role Odoo connects as");
            }
        }
        registry.bind("restorer", restorer);
    }

    /** What the service says and answers: failures, the status page, health, metrics, events, retries. */
    private void serviceBeans(CamelContext context, Path data, DataSource store, Rows rows, Queue queue, Dumps dumps, Cluster cluster,
                              Custody custody) {
        Registry registry = context.getRegistry();
        ErrorRecords records = new ErrorRecords();
        registry.bind("errorRecords", records);
        registry.bind("faults", new Faults());
        registry.bind("retryLog", new RetryLog());
        registry.bind("stepRetries", stepRetries(new RetryPolicy(retryAttempts, retryDelay, retryMaxDelay)));
        registry.bind("bounces", new Bounces(store, rows, custody, records, Path.of(failedDir),
                Path.of(dropDir).toAbsolutePath().resolve(".courier"), context));
        registry.bind("retry", new Retry(rows, dumps, custody, data));
        registry.bind("unreleased", new com.odooupgradecourier.dump.Unreleased(store, custody));
        registry.bind("notifications", new Notifications(outputUri));
        Progress progress = registry.lookupByNameAndType("progress", Progress.class);
        // the one meter registry: Camel's metrics and the courier's, all served by /observe/metrics
        io.micrometer.prometheusmetrics.PrometheusMeterRegistry meters = Metrics.servedRegistry(registry);
        registry.bind("metricsRegistry", meters);
        Reports reports = new Reports(store);
        registry.bind("metrics", new Metrics(meters, camelName, reports, data, progress, cluster));
        HttpAccess access = new HttpAccess(httpHost, httpToken, list(httpHostNames));
        if (!access.loopback()) {
            LOG.warn("The status page (/), /requests (and each dump's upgrade log), /drop, /cluster, /observe/health and /observe/metrics "
                    + "listen on {}:{} (courier.http-host), "
                    + "open to whoever can reach that address: they show dump names, request ids, steps and errors (never a key). {}",
                    httpHost, httpPort, access.tokenSet() ? "Actions (retry) need courier.http-token."
                            : "Actions (retry) are off until courier.http-token is set.");
        }
        registry.bind("httpAccess", access);
        StatusView view = new StatusView(rows, reports, progress, data.resolve("logs")).dropFolder(Path.of(dropDir).toAbsolutePath());
        registry.bind("statusView", view);
        registry.bind("overview", new Overview(view, reports, access, cluster));
        registry.bind("dumpPage", new DumpPage(view, rows, reports, access, Secrets.maskUri(outputUri)));
        registry.bind("storeCheck", new Checks.StoreCheck(store, storeUrl.isBlank() ? data.resolve("courier.db") : null));
        registry.bind("dropFolderCheck", new Checks.DropFolderCheck(Path.of(dropDir)));
        registry.bind("outputCheck", new Checks.OutputCheck(Delivery.localFolder(outputUri), Secrets.maskUri(outputUri)));
        registry.bind("health", new Health());
    }

    /**
     * Rehearsals of live databases on a schedule (courier.sources), their history, and the guard of production upgrades. A
     * Quartz route per source is made from the template once the routes are loaded.
     */
    private void rehearsalBeans(CamelContext context, DataSource store, Dumps dumps, Custody custody) throws Exception {
        Registry registry = context.getRegistry();
        Settings settings = Settings.of(k -> context.getPropertiesComponent().resolveProperty(k).orElse(null));
        List<Source> sources = Source.from(settings);
        Restorer restorer = registry.lookupByNameAndType("restorer", Restorer.class);
        java.time.Duration dumpLimit = java.time.Duration.ofSeconds(settings.whole("courier.rehearsal.dump-timeout", 21_600, 1,
                30L * 86_400, "seconds"));
        SourceDumps sourceDumps = new SourceDumps(RestoreSettings.from(settings).binDir(), custody.dumpsDir(), dumpLimit);
        if (!sources.isEmpty()) {
            sourceDumps.checkTool();
        }
        Rehearsals rehearsals = new Rehearsals(store, sources, restorer, custody.dumpsDir(), node(), dumpLimit,
                registry.lookupByNameAndType("metricsRegistry", io.micrometer.core.instrument.MeterRegistry.class), System::currentTimeMillis);
        int interrupted = rehearsals.interruptedAtStart();
        if (interrupted > 0) {
            LOG.warn("{} rehearsal(s) this node was dumping when it stopped ended as interrupted; their next fire rehearses again",
                    interrupted);
        }
        registry.bind("sourceDumps", sourceDumps);
        registry.bind("rehearsals", rehearsals);
        registry.bind("productionGuard", new ProductionGuard(store, dumps, java.time.Duration.ofSeconds(settings.whole(
                "courier.production.max-test-age", 604_800, 0, Long.MAX_VALUE / 1000, "seconds")),
                Boolean.parseBoolean(settings.oneOf("courier.production.without-test", "false", "true", "false")),
                System::currentTimeMillis));
        SourcesView sourcesView = new SourcesView(rehearsals);
        registry.bind("sourcesView", sourcesView);
        registry.lookupByNameAndType("overview", Overview.class).rehearsals(sourcesView);
        context.addStartupListener(new RehearsalSchedules(sources));
    }

    /**
     * The retries of a step (routes/errors.yaml), from the one retry policy: doubling delays up to the longest one,
     * waited for without holding a thread; one line of the courier's own per retry (RetryLog), none of Camel's.
     */
    private static org.apache.camel.processor.errorhandler.RedeliveryPolicy stepRetries(RetryPolicy policy) {
        org.apache.camel.processor.errorhandler.RedeliveryPolicy p = new org.apache.camel.processor.errorhandler.RedeliveryPolicy();
        p.setMaximumRedeliveries(policy.attempts());
        p.setRedeliveryDelay(policy.delay());
        p.setMaximumRedeliveryDelay(policy.maxDelay());
        p.setUseExponentialBackOff(true);
        p.setBackOffMultiplier(2);
        p.setAsyncDelayedRedelivery(true);
        p.setLogRetryAttempted(false);
        p.setLogRetryStackTrace(false);
        p.setLogExhausted(false);
        return p;
    }

    /**
     * A folder people share with the service through its group (drop, output, failed): made when missing with mode
     * 2770 (the group may read and write; files made in it take the folder's group). An existing folder is left as
     * its owner set it.
     */
    private static void sharedWithGroup(Path dir) {
        if (Files.isDirectory(dir)) {
            return;
        }
        try {
            Files.createDirectories(dir);
            try {
                Files.setAttribute(dir, "unix:mode", 02770);
            } catch (UnsupportedOperationException | IllegalArgumentException e) {
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwx---"));
            }
        } catch (IOException e) {
            // not fatal: what needs the folder waits, and says why, until it can be made
            LOG.warn("The folder {} cannot be made now: {}", dir, e.getMessage());
        }
    }

    private static Set<String> list(String commaSeparated) {
        Set<String> out = new LinkedHashSet<>();
        for (String s : commaSeparated.split(",")) {
            if (!s.isBlank()) {
                out.add(s.trim());
            }
        }
        return out;
    }

    /** The one line that says the service is ready, and where (once every route runs). */
    private final class ReadyLine implements org.apache.camel.ExtendedStartupListener {
        private final String storeShown;

        ReadyLine(String storeShown) {
            this.storeShown = storeShown;
        }

        @Override
        public void onCamelContextStarted(CamelContext c, boolean alreadyStarted) {
            // the line below, once every route runs
        }

        @Override
        public void onCamelContextFullyStarted(CamelContext c, boolean alreadyStarted) throws Exception {
            Cluster cluster = c.getRegistry().lookupByNameAndType("cluster", Cluster.class);
            cluster.follow(c.getRegistry().lookupByNameAndType("clusterService", org.apache.camel.cluster.CamelClusterService.class));
            LOG.info("Odoo Upgrade Courier ready: drop folder {}, platform {}, store {}, status page http://{}:{}/, node {}",
                    Path.of(dropDir).toAbsolutePath().normalize(), Secrets.maskUri(apiUrl), storeShown, httpHost, httpPort,
                    cluster.node() + (cluster.shared() ? " (shares the work with the nodes of " + lockDir + ")" : ""));
        }
    }
}

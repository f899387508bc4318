package com.odooupgradecourier;

import com.odooupgradecourier.dump.DumpInspector;
import com.odooupgradecourier.dump.SettleHashes;
import com.odooupgradecourier.platform.Platform;
import com.odooupgradecourier.service.Checks;
import com.odooupgradecourier.service.DumpSettings;
import com.odooupgradecourier.service.Notifications;
import com.odooupgradecourier.service.Bounces;
import com.odooupgradecourier.service.Cluster;
import com.odooupgradecourier.service.HttpAccess;
import com.odooupgradecourier.service.Metrics;
import com.odooupgradecourier.service.Progress;
import com.odooupgradecourier.restore.RestoreSettings;
import com.odooupgradecourier.restore.Restorer;
import com.odooupgradecourier.service.Retry;
import com.odooupgradecourier.service.StatusView;
import com.odooupgradecourier.simulator.SimulatorConfig;
import com.odooupgradecourier.simulator.UpgradePlatformSimulator;
import com.odooupgradecourier.store.Dumps;
import com.odooupgradecourier.store.Nodes;
import com.odooupgradecourier.store.Store;
import com.odooupgradecourier.support.Custody;
import com.odooupgradecourier.failure.Faults;
import com.odooupgradecourier.support.KeyCipher;
import com.odooupgradecourier.support.Moves;
import com.odooupgradecourier.transfer.Delivery;
import com.odooupgradecourier.transfer.Downloads;
import com.odooupgradecourier.failure.ErrorRecords;
import com.odooupgradecourier.support.PathFunction;
import com.odooupgradecourier.support.Secrets;
import com.odooupgradecourier.transfer.SftpTransfers;
import com.odooupgradecourier.transfer.TransferSlots;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.camel.CamelContext;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.Main;
import org.apache.camel.main.MainListenerSupport;
import org.apache.camel.spi.PropertiesComponent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts Odoo Upgrade Courier: Camel Main with {@code application.properties} and {@code routes/*.yaml}
 * from the working directory, the beans the routes call, and with {@code --simulator} the built-in
 * Upgrade platform simulator in the same JVM.
 */
public final class CourierMain {
    private static final Logger LOG = LoggerFactory.getLogger(CourierMain.class);
    static final String USAGE = """
            Usage: java -jar odoo-upgrade-courier.jar [--simulator | --simulator-only] [--once] [--config DIR]
                                                      [--retry DUMP] [--help]

            Watches the drop folder (courier.drop-dir), sends each database dump through Odoo's Upgrade
            platform and delivers the upgraded archive to courier.output-uri.

              --simulator   start the built-in Upgrade platform simulator and use it instead of
                            upgrade.odoo.com (a complete demo on one machine)
              --simulator-only
                            run only the built-in simulator (simulator.* settings), e.g. to try the
                            platform's API with curl and sftp, or to benchmark against it
              --once        handle what is in the drop folder (and resume what is in flight), wait until
                            each dump is delivered or failed, print a summary and exit: 0 when every
                            dump was delivered, 1 otherwise (for cron and CI scripts); the log goes to
                            standard error, the summary to standard output
              --config DIR  read application.properties and routes/ from DIR instead of the working
                            directory (relative folders in the settings stay relative to the working
                            directory)
              --retry DUMP  take a failed dump up again at the step it failed at (its file name or id, as
                            the status page shows it), with its platform request when it has one; a running
                            service goes on with it at once, a stopped one when it starts
              --help        print this help

            Settings are read from application.properties; every key can be overridden by an environment
            variable (upgrade.contract -> UPGRADE_CONTRACT).
            """;

    private final Main main = new Main();
    private final boolean simulator;
    private UpgradePlatformSimulator platformSimulator;
    private com.odooupgradecourier.simulator.JsonRpcSimulator rpcSimulator;
    /** upgrade.api: v1 or jsonrpc. */
    private String api = "v1";
    private String storeShown;

    public CourierMain(boolean simulator, Map<String, String> overrides) {
        this(simulator, null, overrides);
    }

    /** @param configDir where application.properties and routes/ are; null: the working directory */
    public CourierMain(boolean simulator, Path configDir, Map<String, String> overrides) {
        this.simulator = simulator;
        main.setDefaultPropertyPlaceholderLocation("file:" + (configDir == null ? "" : configDir + "/") + "application.properties");
        // the routes every protocol shares, and those of the protocol chosen (upgrade.api): routes/platform-<api>/
        String routes = "file:" + (configDir == null ? "" : configDir + "/") + "routes/";
        String pattern = setting(configDir, overrides, "camel.main.routes-include-pattern");
        if (pattern == null || pattern.equals("file:routes/*.yaml")) {
            String api = setting(configDir, overrides, "upgrade.api");
            main.addOverrideProperty("camel.main.routes-include-pattern", routes + "*.yaml," + routes + "platform-"
                    + (api == null ? "v1" : api) + "/*.yaml");
        }
        overrides.forEach(main::addOverrideProperty);
        main.addMainListener(new MainListenerSupport() {
            @Override
            public void beforeConfigure(BaseMainSupport m) {
                prepare(m.getCamelContext());
            }

            @Override
            public void beforeStop(BaseMainSupport m) {
                // a graceful stop gives up the lead first, so another node watches the drop folder and takes due dumps at
                // once, while what runs here finishes (or is let go when the stop times out)
                org.apache.camel.cluster.CamelClusterService service = m.getCamelContext().getRegistry()
                        .lookupByNameAndType("clusterService", org.apache.camel.cluster.CamelClusterService.class);
                if (service != null) {
                    try {
                        service.stop();
                    } catch (Exception e) {
                        LOG.warn("The lead could not be given up before stopping ({}): another node leads once the lock is free",
                                e.getMessage());
                    }
                }
            }

            @Override
            public void afterStop(BaseMainSupport m) {
                // a graceful stop hands its dumps over at once: another node need not wait for the leases to run out
                Dumps dumps = m.getCamelContext().getRegistry().lookupByNameAndType("dumps", Dumps.class);
                if (dumps != null) {
                    try {
                        dumps.releaseAll();
                    } catch (Exception e) {
                        LOG.warn("The dumps this node held could not be let go ({}): they are taken up when their leases run out",
                                e.getMessage());
                    }
                }

                if (platformSimulator != null) {
                    platformSimulator.close();
                }
                if (rpcSimulator != null) {
                    rpcSimulator.close();
                }
            }
        });
    }

    /** A setting read before Camel starts: an override, else its environment variable, else application.properties. */
    private static String setting(Path configDir, Map<String, String> overrides, String key) {
        if (overrides.get(key) != null) {
            return overrides.get(key).trim();
        }
        try {
            return settings((configDir == null ? Path.of("") : configDir).toAbsolutePath().resolve("application.properties")).apply(key);
        } catch (java.io.IOException e) {
            return null;
        }
    }

    public static void main(String[] args) throws Exception {
        boolean sim = false;
        boolean simOnly = false;
        boolean once = false;
        Path config = null;
        String retry = null;
        List<String> unknown = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--simulator" -> sim = true;
                case "--simulator-only" -> simOnly = true;
                case "--once" -> once = true;
                case "--config" -> config = i + 1 < args.length ? Path.of(args[++i]) : null;
                case "--retry" -> {
                    if (i + 1 >= args.length || args[i + 1].startsWith("--") || args[i + 1].isBlank()) {
                        System.err.println("--retry needs the dump to take up again: its file name or id, as the status page shows it "
                                + "(java -jar odoo-upgrade-courier.jar --retry DUMP)\n\n" + USAGE);
                        System.exit(2);
                    }
                    retry = args[++i];
                }
                case "--help", "-h" -> {
                    System.out.print(USAGE);
                    return;
                }
                default -> unknown.add(args[i]);
            }
        }
        if (!unknown.isEmpty()) {
            System.err.println("Unknown argument(s): " + String.join(" ", unknown) + "\n\n" + USAGE);
            System.exit(2);
        }
        Path settings = (config == null ? Path.of("") : config).toAbsolutePath().resolve("application.properties");
        if (!java.nio.file.Files.isRegularFile(settings)) {
            System.err.println("No application.properties in " + settings.getParent() + ": run the courier from the folder that holds "
                    + "application.properties and routes/, or name that folder with --config DIR.");
            System.exit(2);
        }
        if (simOnly) {
            runSimulatorOnly(settings);
            return;
        }
        if (retry != null) {
            System.exit(Retry.fromCommandLine(settings, retry, f -> {
                try {
                    return settings(f);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }));
        }
        if (once) {
            // the summary goes to standard output, the log to standard error
            System.setProperty("courier.log.target", "SYSTEM_ERR");
            ((org.apache.logging.log4j.core.LoggerContext) org.apache.logging.log4j.LogManager.getContext(false)).reconfigure();
        }
        CourierMain courier = new CourierMain(sim, config, Map.of());
        try {
            if (once) {
                courier.start();
                int code = courier.runOnce();
                courier.stop();
                System.exit(code);
            }
            courier.main.run();
        } catch (Exception e) {
            Throwable cause = e;
            while (cause.getCause() != null && !(cause instanceof IllegalStateException)) {
                cause = cause.getCause();
            }
            System.err.println(cause.getMessage());
            System.exit(1);
        }
        System.exit(courier.main.getExitCode());
    }

    /** --simulator-only: the simulator alone, until the process is stopped. */
    private static void runSimulatorOnly(Path settings) throws Exception {
        java.util.function.Function<String, String> lookup = settings(settings);
        SimulatorConfig config = SimulatorConfig.from(lookup);
        if (lookup.apply("simulator.storage-dir") == null) {
            config.storageDir(Path.of(java.util.Objects.requireNonNullElse(lookup.apply("courier.data-dir"), "data"), "simulator"));
        }
        if ("jsonrpc".equals(lookup.apply("upgrade.api"))) {
            com.odooupgradecourier.simulator.JsonRpcSimulator rpc = new com.odooupgradecourier.simulator.JsonRpcSimulator(config).start();
            System.out.println("SIMULATOR " + rpc.apiUrl() + " ssh-port=" + rpc.sshPort());
            Runtime.getRuntime().addShutdownHook(new Thread(rpc::close));
            new java.util.concurrent.CountDownLatch(1).await();
        }
        UpgradePlatformSimulator simulator = new UpgradePlatformSimulator(config).start();
        System.out.println("SIMULATOR " + simulator.apiUrl() + " sftp-port=" + simulator.sftpPort());
        Runtime.getRuntime().addShutdownHook(new Thread(simulator::close));
        new java.util.concurrent.CountDownLatch(1).await();
    }

    /**
     * --once: waits until the drop folder holds nothing to take and every dump of this run (those in flight at
     * start, those taken since) is delivered or failed (a dump that keeps waiting fails at the end of its
     * lifetime, upgrade.timeout); prints a summary; 0 when all were delivered. A file left in the drop folder
     * well past the settle timeout is reported as not taken instead of being waited for.
     */
    int runOnce() throws Exception {
        DataSource store = context().getRegistry().lookupByNameAndType("store", DataSource.class);
        PropertiesComponent pc = context().getPropertiesComponent();
        Path drop = Path.of(pc.resolveProperty("courier.drop-dir").orElse("drop"));
        java.util.regex.Pattern ignored = java.util.regex.Pattern.compile(pc.resolveProperty("courier.ignore-pattern").orElse("^\\..*$"));
        long notTakenAfter = Long.parseLong(pc.resolveProperty("courier.settle-timeout").orElse("30000").trim())
                + Long.parseLong(pc.resolveProperty("courier.settle-time").orElse("5000").trim()) + 10_000;
        java.util.Set<String> before = new java.util.HashSet<>();
        java.util.Set<String> ours = new java.util.HashSet<>();
        try (var c = store.getConnection(); var rs = c.createStatement().executeQuery("select id, step from dumps")) {
            while (rs.next()) {
                before.add(rs.getString(1));
                if (!com.odooupgradecourier.store.Step.of(rs.getString(2)).isFinal()) {
                    ours.add(rs.getString(1));
                }
            }
        }
        Map<Path, Long> seen = new java.util.HashMap<>();
        java.util.Set<Path> notTaken = new java.util.TreeSet<>();
        int quiet = 0;
        List<String[]> rows = List.of();
        while (quiet < 3) {
            java.util.concurrent.TimeUnit.SECONDS.sleep(1);
            long now = System.currentTimeMillis();
            java.util.Set<Path> waiting = new java.util.HashSet<>();
            try (var files = java.nio.file.Files.list(drop)) {
                files.filter(java.nio.file.Files::isRegularFile).filter(f -> !ignored.matcher(f.getFileName().toString()).matches())
                        .forEach(waiting::add);
            } catch (java.nio.file.NoSuchFileException e) {
                // nothing to take
            }
            seen.keySet().retainAll(waiting);
            waiting.forEach(f -> seen.putIfAbsent(f, now));
            notTaken.retainAll(waiting);
            seen.forEach((f, since) -> {
                if (now - since > notTakenAfter) {
                    notTaken.add(f);
                }
            });
            rows = new ArrayList<>();
            try (var c = store.getConnection(); var rs = c.createStatement().executeQuery(
                    "select id, file_name, step, request_id, delivered_to, last_error, path from dumps order by created_at")) {
                while (rs.next()) {
                    if (ours.contains(rs.getString(1)) || !before.contains(rs.getString(1))) {
                        rows.add(new String[] {rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6),
                                rs.getString(7)});
                    }
                }
            }
            boolean finished = rows.stream().allMatch(r -> com.odooupgradecourier.store.Step.of(r[1]).isFinal());
            quiet = waiting.size() == notTaken.size() && finished ? quiet + 1 : 0;
        }
        long delivered = rows.stream().filter(r -> r[1].equals("delivered")).count();
        System.out.println();
        System.out.println("Odoo Upgrade Courier --once: " + rows.size() + " dump(s), " + delivered + " delivered, "
                + (rows.size() - delivered) + " failed" + (notTaken.isEmpty() ? "" : ", " + notTaken.size() + " file(s) not taken"));
        for (String[] r : rows) {
            System.out.println(r[1].equals("delivered")
                    ? "  delivered  " + r[0] + " -> " + r[3] + " (request " + r[2] + ")"
                    : r[1].equals("restore-failed")
                    ? "  RESTORE FAILED " + r[0] + " -> " + r[3] + " (request " + r[2] + "), delivered, not restored: " + r[4]
                    : "  FAILED     " + r[0] + ": " + r[4] + " (the dump and its error record are in "
                    + pc.resolveProperty("courier.failed-dir").orElse("failed") + ")");
        }
        for (Path f : notTaken) {
            System.out.println("  NOT TAKEN  " + f.getFileName() + ": still in the drop folder after "
                    + notTakenAfter / 1000 + " s; see the log for why");
        }
        return delivered == rows.size() && notTaken.isEmpty() ? 0 : 1;
    }

    /** Starts without blocking (tests); {@link #stop()} ends it. */
    public CourierMain start() throws Exception {
        main.start();
        return this;
    }

    public void stop() throws Exception {
        main.stop();
    }

    public CamelContext context() {
        return main.getCamelContext();
    }

    public UpgradePlatformSimulator simulator() {
        return platformSimulator;
    }

    /** The JSON-RPC simulator started with --simulator and upgrade.api = jsonrpc, or null. */
    public com.odooupgradecourier.simulator.JsonRpcSimulator rpcSimulator() {
        return rpcSimulator;
    }

    private void prepare(CamelContext context) {
        PropertiesComponent pc = context.getPropertiesComponent();
        try {
            context.addStartupListener(readyLine(pc));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        PathFunction paths = new PathFunction(context);
        pc.addPropertiesFunction(paths);
        Path dataDir = Path.of(paths.apply("courier.data-dir"));
        try {
            SettingsCheck.check(com.odooupgradecourier.support.Settings.of(k -> pc.resolveProperty(k).orElse(null)), context);
            ownerOnly(dataDir);
            // where people drop dumps and collect archives and error records: the service's group shares them
            sharedWithGroup(Path.of(paths.apply("courier.drop-dir")));
            sharedWithGroup(Path.of(paths.apply("courier.failed-dir")));
            Path out = com.odooupgradecourier.transfer.Delivery.localFolder(pc.resolveProperty("courier.output-uri").orElse(""));
            if (out != null) {
                sharedWithGroup(out);
            }
            api = pc.resolveProperty("upgrade.api").orElse("v1").trim();
            staleRoutes(pc);
            if (!List.of("v1", "jsonrpc").contains(api)) {
                throw new IllegalStateException("upgrade.api is '" + api + "': v1 (the seed's database/v1 API) or jsonrpc (the protocol "
                        + "of Odoo's current upgrade client)");
            }
            if (api.equals("jsonrpc")) {
                List<String> missing = com.odooupgradecourier.transfer.Rsync.missingPrograms();
                if (!missing.isEmpty()) {
                    throw new IllegalStateException("upgrade.api = jsonrpc moves dumps with rsync over ssh, and " + String.join(" and ", missing)
                            + " cannot be found on the PATH (Debian: apt-get install rsync openssh-client)");
                }
                String url = pc.resolveProperty("upgrade.api-url").orElse("");
                if (url.matches(".*/database/v1/?$")) {
                    pc.addOverrideProperty("upgrade.api-url", url.replaceAll("/database/v1/?$", ""));
                }
            }
            if (simulator) {
                startSimulator(pc, dataDir, api);
            }
            requireSettings(pc, api);
            DataSource store = openStore(pc, dataDir);
            String storeUrl = pc.resolveProperty("courier.store.url").orElse("");
            storeShown = storeUrl.isBlank() ? "SQLite " + dataDir.resolve("courier.db") : Secrets.maskUri(storeUrl);
            context.getRegistry().bind("store", store);
            Dumps dumps = dumps(pc, store);
            context.getRegistry().bind("dumps", dumps);
            // one live instance per node id, held in the store: the leases are held by node, so two of one name would work as one
            Nodes nodes = new Nodes(store, nodeId(pc), number(pc, "courier.lease-time", "20") * 1000, System::currentTimeMillis);
            nodes.register();
            dumps.registeredAs(nodes);
            // a service of the context: the node id is let go whenever the context stops gracefully
            context.addService(nodes, true, true);
            Cluster cluster = cluster(pc, context, dataDir);
            context.getRegistry().bind("cluster", cluster);
            int sealed = dumps.sealAll();
            if (sealed > 0) {
                LOG.info("{} request key(s) and URL(s) kept as they came are encrypted now (courier.store.secret)", sealed);
            }
            // what was in flight when the service last stopped is taken up again by the queue, like anything due
            dumps.recover(Path.of(paths.apply("courier.drop-dir")).resolve(".courier"), dataDir.resolve("dumps").toAbsolutePath(),
                    !cluster.shared());
        } catch (Exception e) {
            throw new IllegalStateException("Odoo Upgrade Courier cannot start: " + e.getMessage(), e);
        }
        String output = pc.resolveProperty("courier.output-uri").orElse("file:out");
        if (output.startsWith("sftp:") && !output.matches("(?i).*[?&]strictHostKeyChecking=yes(&.*)?$")) {
            LOG.warn("courier.output-uri {} does not verify the SFTP server's host key (add strictHostKeyChecking=yes and "
                    + "knownHostsFile=…): whoever can get between the two could receive the customers' databases", Secrets.maskUri(output));
        }
        context.getRegistry().bind("platform", new Platform());
        context.getRegistry().bind("faults", new Faults());
        context.getRegistry().bind("retryLog", new com.odooupgradecourier.failure.RetryLog());
        context.getRegistry().bind("downloads", new Downloads(dataDir, pc.resolveProperty("upgrade.api-url").orElseThrow(),
                list(pc.resolveProperty("upgrade.download-hosts").orElse(""))));
        context.getRegistry().bind("delivery", new Delivery(output, context.getRegistry().lookupByNameAndType("dumps", Dumps.class)));
        context.getRegistry().bind("transferSlots", new TransferSlots(
                Integer.parseInt(pc.resolveProperty("courier.max-parallel-transfers").orElse("2").trim())));
        // the drop folder's read lock, which hashes a dump while it settles
        long settle = number(pc, "courier.settle-time", "5000");
        SettleHashes settleHashes = new SettleHashes(settle, Math.max(100, Math.min(1000, settle / 4)),
                number(pc, "courier.settle-timeout", "30000"));
        context.getRegistry().bind("settleHashes", settleHashes);
        context.getRegistry().bind("dumpInspector", new DumpInspector(settleHashes));
        Custody custody = new Custody(dataDir);
        context.getRegistry().bind("custody", custody);
        Path failedDir = Path.of(paths.apply("courier.failed-dir"));
        // what a crash left half-way: temporary copies of moves, bounces without their record
        Moves.removeLeftovers(failedDir);
        if (output.startsWith("file:")) {
            Moves.removeLeftovers(com.odooupgradecourier.transfer.Delivery.localFolder(output));
        }
        context.getRegistry().bind("bounces", new Bounces(context.getRegistry().lookupByNameAndType("store", DataSource.class),
                context.getRegistry().lookupByNameAndType("dumps", Dumps.class), custody, new ErrorRecords(), failedDir,
                Path.of(paths.apply("courier.drop-dir")).resolve(".courier"), context));
        context.getRegistry().bind("retry", new Retry(context.getRegistry().lookupByNameAndType("dumps", Dumps.class), custody, dataDir));
        context.getRegistry().bind("restorer", restorer(pc, dataDir, context.getRegistry().lookupByNameAndType("dumps", Dumps.class)));

        Progress progress = new Progress(Long.parseLong(pc.resolveProperty("courier.progress-interval").orElse("30").trim()));
        context.getRegistry().bind("progress", progress);
        boolean jsonrpc = api.equals("jsonrpc");
        if (jsonrpc) {
            try {
                context.getRegistry().bind("jsonrpc", new com.odooupgradecourier.platform.JsonRpc(pc.resolveProperty("upgrade.api-url").orElseThrow(),
                        dataDir.resolve("logs").toAbsolutePath()));
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("Odoo Upgrade Courier cannot start: " + e.getMessage(), e);
            }
            context.getRegistry().bind("rsync", new com.odooupgradecourier.transfer.Rsync(dataDir,
                    pc.resolveProperty("upgrade.rsync.known-hosts").orElse(""), progress));
        }
        context.getRegistry().bind("sftp", new SftpTransfers(dataDir, pc.resolveProperty("upgrade.sftp.known-hosts").orElse(""),
                pc.resolveProperty("upgrade.transfer").orElse("auto"), pc.resolveProperty("upgrade.sftp-threshold").orElse("64MB"),
                pc.resolveProperty("upgrade.sftp.channels").orElse("4"),
                context.getRegistry().lookupByNameAndType("dumps", Dumps.class), progress, !jsonrpc));
        Metrics metrics = new Metrics(pc.resolveProperty("camel.main.name").orElse("camel-1"),
                context.getRegistry().lookupByNameAndType("store", DataSource.class), progress,
                context.getRegistry().lookupByNameAndType("cluster", Cluster.class));
        context.getRegistry().bind("metrics", metrics);
        // the one meter registry: Camel's metrics and the courier's, all served by /observe/metrics
        context.getRegistry().bind("metricsRegistry", metrics.registry());
        String httpHost = pc.resolveProperty("courier.http-host").orElse("127.0.0.1").trim();
        HttpAccess access = new HttpAccess(httpHost, pc.resolveProperty("courier.http-token").orElse(""),
                list(pc.resolveProperty("courier.http-host-names").orElse("")));
        if (!access.loopback()) {
            LOG.warn("The status page (/), /requests, /cluster, /observe/health and /observe/metrics listen on {}:{} (courier.http-host), "
                    + "open to whoever can reach that address: they show dump names, request ids, steps and errors (never a key). {}",
                    httpHost, pc.resolveProperty("courier.http-port").orElse("8080"), access.tokenSet()
                            ? "Actions (retry) need courier.http-token."
                            : "Actions (retry) are off until courier.http-token is set.");
        }
        context.getRegistry().bind("httpAccess", access);
        context.getRegistry().bind("statusView", new StatusView(context.getRegistry().lookupByNameAndType("store", DataSource.class),
                progress, access, context.getRegistry().lookupByNameAndType("cluster", Cluster.class), dataDir.resolve("logs").toAbsolutePath(),
                context.getRegistry().lookupByNameAndType("dumps", Dumps.class)).dropFolder(Path.of(paths.apply("courier.drop-dir"))));
        Map<String, String> defaults = new java.util.LinkedHashMap<>();
        for (String key : List.of("contract", "email", "target", "aim", "timezone")) {
            defaults.put(key, pc.resolveProperty("upgrade." + key).orElse(""));
        }
        context.getRegistry().bind("dumpSettings", new DumpSettings(defaults,
                Long.parseLong(pc.resolveProperty("courier.settle-timeout").orElse("30000").trim()),
                context.getRegistry().lookupByNameAndType("store", DataSource.class), jsonrpc));
        context.getRegistry().bind("notifications", new Notifications(output));
        context.getRegistry().bind("storeCheck", new Checks.StoreCheck(context.getRegistry().lookupByNameAndType("store", DataSource.class),
                pc.resolveProperty("courier.store.url").filter(u -> !u.isBlank()).isPresent() ? null : dataDir.resolve("courier.db")));
        context.getRegistry().bind("dropFolderCheck", new Checks.DropFolderCheck(Path.of(paths.apply("courier.drop-dir"))));
        context.getRegistry().bind("outputCheck", new Checks.OutputCheck(Delivery.localFolder(output), Secrets.maskUri(output)));
        context.getRegistry().bind("errorRecords", new ErrorRecords());
        context.getRegistry().bind("health", new com.odooupgradecourier.service.Health());
    }

    /**
     * The queue in the store, with this node's name and the timings that decide when a dump is due:
     * {@code courier.lease-time}, {@code upgrade.poll-interval}, {@code upgrade.retry.*}, {@code upgrade.timeout}.
     */
    private static Dumps dumps(PropertiesComponent pc, DataSource store) {
        long leaseMillis = number(pc, "courier.lease-time", "20") * 1000;
        // the heartbeat renews every lease four times in its time
        pc.addOverrideProperty("courier.lease-renewal", String.valueOf(Math.max(250, leaseMillis / 4)));
        String node = nodeId(pc);
        KeyCipher keys = KeyCipher.of(pc.resolveProperty("courier.store.secret").orElse(""));
        String sealed = aSealedKey(store);
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
        return new Dumps(store, node, leaseMillis, number(pc, "upgrade.poll-interval", "60") * 1000,
                Long.parseLong(pc.resolveProperty("upgrade.retry.delay").orElse("2000").trim()),
                Integer.parseInt(pc.resolveProperty("upgrade.retry.attempts").orElse("6").trim()),
                Long.parseLong(pc.resolveProperty("upgrade.retry.max-delay").orElse("120000").trim()),
                number(pc, "upgrade.timeout", "604800") * 1000, System::currentTimeMillis, keys);
    }

    /** One request key the store holds encrypted (a dump not yet delivered), or null. */
    private static String aSealedKey(DataSource store) {
        try (var c = store.getConnection(); var rs = c.createStatement().executeQuery(
                "select request_key from dumps where request_key like 'aesgcm:%' and step <> 'delivered'")) {
            return rs.next() ? rs.getString(1) : null;
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException("the store cannot be read: " + e.getMessage(), e);
        }
    }

    private static long number(PropertiesComponent pc, String key, String fallback) {
        return Long.parseLong(pc.resolveProperty(key).orElse(fallback).trim());
    }

    /**
     * The restore after delivery (courier.restore.*): when configured, PostgreSQL's client programs must be there, or
     * the service does not start.
     */
    private static Restorer restorer(PropertiesComponent pc, Path dataDir, Dumps dumps) {
        Restorer r = new Restorer(RestoreSettings.from(com.odooupgradecourier.support.Settings.of(k -> pc.resolveProperty(k).orElse(null))),
                dataDir.resolve("downloads").toAbsolutePath(), dumps);
        if (r.configured()) {
            String version;
            try {
                version = r.checkTools();
            } catch (IllegalStateException e) {
                throw new IllegalStateException("Odoo Upgrade Courier cannot start: " + e.getMessage(), e);
            }
            LOG.info("Delivered archives are restored into new databases on the PostgreSQL server {} ({})", r.server(), version);
        }
        return r;
    }

    /** This instance's name: courier.cluster.node-id, or the host name and the HTTP port. */
    private static String nodeId(PropertiesComponent pc) {
        return pc.resolveProperty("courier.cluster.node-id").filter(s -> !s.isBlank())
                .orElseGet(() -> hostName() + ":" + pc.resolveProperty("courier.http-port").orElse("8080"));
    }

    /**
     * The election of the node that works (the others stand by): Camel's file-lock cluster service on
     * courier.cluster.lock-dir, shared by the instances; without one, a folder of this instance's own, so it always
     * leads. High availability needs a store the instances share: PostgreSQL.
     */
    private Cluster cluster(PropertiesComponent pc, CamelContext context, Path dataDir) throws Exception {
        String lockDir = pc.resolveProperty("courier.cluster.lock-dir").orElse("").trim();
        boolean shared = !lockDir.isEmpty();
        if (shared && pc.resolveProperty("courier.store.url").filter(u -> u.startsWith("jdbc:postgresql:")).isEmpty()) {
            throw new IllegalStateException("courier.cluster.lock-dir is set, but the store is SQLite: instances that stand in "
                    + "for each other must share a PostgreSQL store (courier.store.url = jdbc:postgresql://…)");
        }
        org.apache.camel.component.file.cluster.FileLockClusterService service =
                new org.apache.camel.component.file.cluster.FileLockClusterService();
        String node = nodeId(pc);
        service.setId(node);
        service.setRoot((shared ? Path.of(lockDir) : dataDir.resolve("cluster")).toAbsolutePath().toString());
        service.setAcquireLockDelay(Long.parseLong(pc.resolveProperty("courier.cluster.acquire-lock-delay").orElse("500").trim()),
                java.util.concurrent.TimeUnit.MILLISECONDS);
        service.setAcquireLockInterval(Long.parseLong(pc.resolveProperty("courier.cluster.acquire-lock-interval").orElse("2000").trim()),
                java.util.concurrent.TimeUnit.MILLISECONDS);
        service.setHeartbeatTimeoutMultiplier(Integer.parseInt(
                pc.resolveProperty("courier.cluster.heartbeat-timeout-multiplier").orElse("5").trim()));
        context.addService(service, true, true);
        Path root = Path.of(service.getRoot());
        Files.createDirectories(root);
        Cluster cluster = new Cluster(node, shared);
        context.getRegistry().bind("clusterService", service);
        context.getRegistry().bind("lockFolderCheck", new com.odooupgradecourier.service.Checks.LockFolderCheck(root));
        return cluster;
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "localhost";
        }
    }

    private static java.util.Set<String> list(String commaSeparated) {
        java.util.Set<String> out = new java.util.LinkedHashSet<>();
        for (String s : commaSeparated.split(",")) {
            if (!s.isBlank()) {
                out.add(s.trim());
            }
        }
        return out;
    }

    /** The one line that says the service is ready, and where (once every route runs). */
    private org.apache.camel.ExtendedStartupListener readyLine(PropertiesComponent pc) {
        return new org.apache.camel.ExtendedStartupListener() {
            @Override
            public void onCamelContextStarted(CamelContext c, boolean alreadyStarted) {
                // the line below, once every route runs
            }

            @Override
            public void onCamelContextFullyStarted(CamelContext c, boolean alreadyStarted) throws Exception {
                Cluster cluster = c.getRegistry().lookupByNameAndType("cluster", Cluster.class);
                cluster.follow(c.getRegistry().lookupByNameAndType("clusterService", org.apache.camel.cluster.CamelClusterService.class));
                LOG.info("Odoo Upgrade Courier ready: drop folder {}, platform {}, store {}, status page http://{}:{}/, node {}",
                        Path.of(pc.resolveProperty("courier.drop-dir").orElse("drop")).toAbsolutePath().normalize(),
                        Secrets.maskUri(pc.resolveProperty("upgrade.api-url").orElse("")), storeShown,
                        pc.resolveProperty("courier.http-host").orElse("127.0.0.1"), pc.resolveProperty("courier.http-port").orElse("8080"),
                        cluster.node() + (cluster.state().get("shared").equals(true) ? " (shares the work with the nodes of "
                                + pc.resolveProperty("courier.cluster.lock-dir").orElse("") + ")" : ""));
            }
        };
    }

    private static DataSource openStore(PropertiesComponent pc, Path dataDir) {
        String url = pc.resolveProperty("courier.store.url").orElse("");
        try {
            return Store.open(url, pc.resolveProperty("courier.store.user").orElse(""),
                    pc.resolveProperty("courier.store.password").orElse(""), dataDir);
        } catch (Exception e) {
            throw new IllegalStateException("the store is not available (courier.store.url = "
                    + (url.isBlank() ? "SQLite in " + dataDir : url) + "): " + e.getMessage()
                    + ". Check that the database server runs and the settings are right; nothing was picked up.", e);
        }
    }

    /**
     * A folder people share with the service through its group (drop, output, failed): made when missing with mode
     * 2770 (the group may read and write; files made in it take the folder's group). An existing folder is left as
     * its owner set it.
     */
    private static void sharedWithGroup(Path dir) {
        if (java.nio.file.Files.isDirectory(dir)) {
            return;
        }
        try {
            java.nio.file.Files.createDirectories(dir);
            try {
                java.nio.file.Files.setAttribute(dir, "unix:mode", 02770);
            } catch (UnsupportedOperationException | IllegalArgumentException e) {
                java.nio.file.Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwx---"));
            }
        } catch (java.io.IOException e) {
            // not fatal: what needs the folder waits, and says why, until it can be made
            LOG.warn("The folder {} cannot be made now: {}", dir, e.getMessage());
        }
    }

    /**
     * Route files of a version before the protocols had folders of their own (routes/create.yaml, …) left in routes/ by
     * copying the new routes over the old: they would load beside routes/platform-v1/ with the same route ids.
     */
    private static void staleRoutes(PropertiesComponent pc) {
        String pattern = pc.resolveProperty("camel.main.routes-include-pattern").orElse("");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("file:([^,]*?)routes/\\*\\.yaml").matcher(pattern);
        if (!m.find()) {
            return;
        }
        Path routes = Path.of(m.group(1).isEmpty() ? "." : m.group(1)).resolve("routes");
        List<String> stale = new ArrayList<>();
        for (String f : List.of("create.yaml", "upload.yaml", "process.yaml", "poll.yaml", "download.yaml", "notes.yaml", "platform.yaml")) {
            if (java.nio.file.Files.exists(routes.resolve(f))) {
                stale.add(f);
            }
        }
        if (!stale.isEmpty()) {
            throw new IllegalStateException(routes + " holds " + String.join(", ", stale) + " of an earlier version: the platform's routes "
                    + "are in routes/platform-v1/ and routes/platform-jsonrpc/ now. Install routes/ afresh (remove the old folder first)");
        }
    }

    /** The data folder holds the store with the request keys, and the dumps: nobody else may read it. */
    private static void ownerOnly(Path dir) throws java.io.IOException {
        java.nio.file.Files.createDirectories(dir);
        java.nio.file.Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    }

    private void startSimulator(PropertiesComponent pc, Path dataDir, String api) throws Exception {
        SimulatorConfig config = SimulatorConfig.from(k -> pc.resolveProperty(k).orElse(null));
        if (pc.resolveProperty("simulator.storage-dir").isEmpty()) {
            config.storageDir(dataDir.resolve("simulator"));
        }
        String url;
        if (api.equals("jsonrpc")) {
            rpcSimulator = new com.odooupgradecourier.simulator.JsonRpcSimulator(config).start();
            url = rpcSimulator.apiUrl();
        } else {
            platformSimulator = new UpgradePlatformSimulator(config).start();
            url = platformSimulator.apiUrl();
        }
        pc.addOverrideProperty("upgrade.api-url", url);
        // the simulator upgrades in seconds: poll it at its own pace, not the platform's
        pc.resolveProperty("simulator.poll-interval").ifPresent(v -> pc.addOverrideProperty("upgrade.poll-interval", v));
        if (pc.resolveProperty("upgrade.contract").filter(s -> !s.isBlank()).isEmpty()) {
            pc.addOverrideProperty("upgrade.contract", SimulatorConfig.DEMO_CONTRACT);
        }
        if (pc.resolveProperty("upgrade.email").filter(s -> !s.isBlank()).isEmpty()) {
            pc.addOverrideProperty("upgrade.email", "demo@example.com");
        }
        LOG.info("Demo mode: using the built-in simulator at {} instead of the real platform", url);
    }

    /**
     * The settings outside Camel (the simulator alone, --retry): application.properties, each key overridden by its
     * environment variable; blank values are absent.
     */
    static java.util.function.Function<String, String> settings(Path file) throws java.io.IOException {
        java.util.Properties props = new java.util.Properties();
        try (var in = java.nio.file.Files.newBufferedReader(file)) {
            props.load(in);
        }
        return key -> {
            String env = System.getenv(envName(key));
            String value = env != null ? env : props.getProperty(key);
            return value == null || value.isBlank() ? null : value.trim();
        };
    }

    /** The environment variable that overrides a key: upgrade.api-url -> UPGRADE_API_URL. */
    static String envName(String key) {
        return key.toUpperCase(java.util.Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    private static void requireSettings(PropertiesComponent pc, String api) {
        List<String> missing = new ArrayList<>();
        List<String> keys = api.equals("jsonrpc") ? List.of("upgrade.api-url", "upgrade.contract", "upgrade.target", "upgrade.aim")
                : List.of("upgrade.api-url", "upgrade.contract", "upgrade.email", "upgrade.target", "upgrade.aim");
        for (String key : keys) {
            if (pc.resolveProperty(key).filter(s -> !s.isBlank()).isEmpty()) {
                missing.add(key + " (" + envName(key) + ")");
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("missing settings: " + String.join(", ", missing)
                    + ". Set them in application.properties or as environment variables, or run with --simulator for a demo.");
        }
    }
}

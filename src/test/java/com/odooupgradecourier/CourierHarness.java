package com.odooupgradecourier;

import com.odooupgradecourier.simulator.SimulatorConfig;
import com.odooupgradecourier.simulator.UpgradePlatformSimulator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.sql.DataSource;


/**
 * A real service against a real simulator, in folders of a test's own: the service is started through
 * {@link CourierMain} exactly as {@code java -jar} starts it (same application.properties, same
 * routes/*.yaml), with only folders, endpoints and timings overridden.
 */
public final class CourierHarness implements AutoCloseable {
    public final Path root;
    public final Path drop;
    public final Path out;
    public final Path failed;
    public final Path data;
    /** The v1 simulator (null with {@link #jsonrpc}). */
    public final UpgradePlatformSimulator simulator;
    /** The JSON-RPC simulator of {@link #jsonrpc} (else null). */
    public final com.odooupgradecourier.simulator.JsonRpcSimulator rpc;
    private final Map<String, String> overrides = new LinkedHashMap<>();
    private CourierMain courier;

    public CourierHarness(Path root) throws Exception {
        this(root, fastSimulator());
    }

    /** The simulator's defaults, with an upgrade that takes 1.5 s (0.5 s pending, 1 s processing). */
    public static SimulatorConfig fastSimulator() {
        return SimulatorConfig.defaults().timings(Duration.ofMillis(500), Duration.ofMillis(1000));
    }

    public CourierHarness(Path root, SimulatorConfig config) throws Exception {
        this(root, config, false);
    }

    /** A service with upgrade.api = jsonrpc against the JSON-RPC simulator (rsync over SSH), fast timings. */
    public static CourierHarness jsonrpc(Path root) throws Exception {
        return new CourierHarness(root, fastSimulator(), true);
    }

    public static CourierHarness jsonrpc(Path root, SimulatorConfig config) throws Exception {
        return new CourierHarness(root, config, true);
    }

    private CourierHarness(Path root, SimulatorConfig config, boolean jsonrpc) throws Exception {
        this.root = root;
        drop = Files.createDirectories(root.resolve("drop"));
        out = root.resolve("out");
        failed = root.resolve("failed");
        data = root.resolve("data");
        config.bindHost("127.0.0.1").httpPort(0).sftpPort(0).storageDir(root.resolve("simulator"));
        if (jsonrpc) {
            simulator = null;
            rpc = new com.odooupgradecourier.simulator.JsonRpcSimulator(config).start();
            overrides.put("upgrade.api", "jsonrpc");
            overrides.put("upgrade.api-url", rpc.apiUrl());
        } else {
            rpc = null;
            simulator = new UpgradePlatformSimulator(config).start();
            overrides.put("upgrade.api-url", simulator.apiUrl());
        }
        overrides.put("upgrade.contract", SimulatorConfig.DEMO_CONTRACT);
        overrides.put("upgrade.email", "admin@example.com");
        overrides.put("upgrade.poll-interval", "1");
        overrides.put("upgrade.retry.attempts", "2");
        overrides.put("upgrade.retry.delay", "100");
        overrides.put("courier.settle-time", "500");
        overrides.put("courier.drop-dir", drop.toString());
        overrides.put("courier.output-uri", "file:" + out);
        overrides.put("courier.failed-dir", failed.toString());
        overrides.put("courier.data-dir", data.toString());
        overrides.put("courier.http-port", String.valueOf(freePort()));
    }

    static int freePort() throws java.io.IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    public String httpPort() {
        return overrides.get("courier.http-port");
    }

    /** The base URL of the status page, API, health and metrics. */
    public String http() {
        return "http://127.0.0.1:" + overrides.get("courier.http-port");
    }

    public CourierHarness with(String key, String value) {
        overrides.put(key, value);
        return this;
    }

    public CourierHarness start() throws Exception {
        courier = new CourierMain(false, overrides).start();
        return this;
    }

    public void stopCourier() throws Exception {
        if (courier != null) {
            courier.stop();
            courier = null;
        }
    }

    public TestStore store() {
        return new TestStore(dataSource());
    }

    /**
     * Waits until this instance leads (its drop folder watched): a file dropped from then on is looked at within a poll,
     * so it settles (and is hashed meanwhile) for the whole settle time.
     */
    public CourierHarness awaitLeading() {
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> bean("cluster", com.odooupgradecourier.service.Cluster.class).leading());
        return this;
    }

    /** The running service's Camel context (e.g. for a NotifyBuilder). */
    public org.apache.camel.CamelContext context() {
        return courier.context();
    }

    /** A bean of the running service, by its name in the registry. */
    public <T> T bean(String name, Class<T> type) {
        return courier.context().getRegistry().lookupByNameAndType(name, type);
    }

    public DataSource dataSource() {
        return courier.context().getRegistry().lookupByNameAndType("store", DataSource.class);
    }

    /** Drops a file the way a user does: written elsewhere, then moved in. */
    public Path dropFile(Path source) throws Exception {
        Path target = drop.resolve(source.getFileName());
        Files.move(source, target);
        return target;
    }

    @Override
    public void close() throws Exception {
        // calls held in the simulator would hold up the service's graceful stop
        if (simulator != null) {
            simulator.releaseAll();
        }
        if (rpc != null) {
            rpc.releaseAll();
        }
        stopCourier();
        if (simulator != null) {
            simulator.close();
        }
        if (rpc != null) {
            rpc.close();
        }
    }
}

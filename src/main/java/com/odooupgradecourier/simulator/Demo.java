package com.odooupgradecourier.simulator;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The built-in stand-in for the Upgrade platform, started for a demo ({@code --simulator}) or alone
 * ({@code --simulator-only}): the simulator of the protocol chosen ({@code upgrade.api}), with its {@code simulator.*}
 * settings and its files under the data folder. The service reaches it only over HTTP, SFTP and SSH, as it reaches the
 * platform.
 */
public final class Demo implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Demo.class);
    private final AutoCloseable simulator;
    private final String apiUrl;

    private Demo(AutoCloseable simulator, String apiUrl) {
        this.simulator = simulator;
        this.apiUrl = apiUrl;
    }

    /** Starts the simulator of {@code upgrade.api} with the settings {@code lookup} answers (null: not set). */
    public static Demo start(Function<String, String> lookup) throws Exception {
        SimulatorConfig config = SimulatorConfig.from(lookup);
        if (lookup.apply("simulator.storage-dir") == null) {
            String data = lookup.apply("courier.data-dir");
            config.storageDir(Path.of(data == null ? "data" : data, "simulator"));
        }
        if ("jsonrpc".equals(lookup.apply("upgrade.api"))) {
            JsonRpcSimulator rpc = new JsonRpcSimulator(config).start();
            return new Demo(rpc, rpc.apiUrl());
        }
        UpgradePlatformSimulator v1 = new UpgradePlatformSimulator(config).start();
        return new Demo(v1, v1.apiUrl());
    }

    /**
     * The settings the service runs with against this simulator: its URL, its own poll interval (it upgrades in seconds)
     * and a demo contract and e-mail when none is set.
     */
    public Map<String, String> overrides(Function<String, String> lookup) {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("upgrade.api-url", apiUrl);
        String poll = lookup.apply("simulator.poll-interval");
        if (poll != null) {
            o.put("upgrade.poll-interval", poll);
        }
        if (lookup.apply("upgrade.contract") == null) {
            o.put("upgrade.contract", SimulatorConfig.DEMO_CONTRACT);
        }
        if (lookup.apply("upgrade.email") == null) {
            o.put("upgrade.email", "demo@example.com");
        }
        LOG.info("Demo mode: using the built-in simulator at {} instead of the real platform", apiUrl);
        return o;
    }

    /** The simulator alone ({@code --simulator-only}), until the process is stopped. */
    public static void runAlone(Function<String, String> lookup) throws Exception {
        Demo demo = start(lookup);
        String port = demo.simulator instanceof JsonRpcSimulator rpc ? "ssh-port=" + rpc.sshPort()
                : "sftp-port=" + ((UpgradePlatformSimulator) demo.simulator).sftpPort();
        System.out.println("SIMULATOR " + demo.apiUrl + " " + port);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                demo.close();
            } catch (Exception ignored) {
                // the process ends
            }
        }));
        new CountDownLatch(1).await();
    }

    /** The v1 simulator, when that is the one running (tests reach its fault injection through it). */
    public UpgradePlatformSimulator v1() {
        return simulator instanceof UpgradePlatformSimulator s ? s : null;
    }

    /** The JSON-RPC simulator, when that is the one running. */
    public JsonRpcSimulator jsonRpc() {
        return simulator instanceof JsonRpcSimulator s ? s : null;
    }

    @Override
    public void close() throws Exception {
        simulator.close();
    }
}

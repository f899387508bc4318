package com.odooupgradecourier;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The packaged service as a real process ({@code java -jar}), from the project folder, settings by environment. */
public final class CourierProcess implements AutoCloseable {
    static final Path JAR = Path.of("target/odoo-upgrade-courier.jar").toAbsolutePath();
    private final Process process;

    private CourierProcess(Process process) {
        this.process = process;
    }

    public static CourierProcess start(Path log, List<String> args, Map<String, String> env) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-jar", JAR.toString()));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().keySet().removeIf(k -> k.startsWith("UPGRADE_") || k.startsWith("COURIER_") || k.startsWith("SIMULATOR_"));
        pb.environment().putAll(env);
        return new CourierProcess(pb.start());
    }

    /** Environment that points the service at a test's simulator and folders. */
    public static Map<String, String> env(CourierHarness h) throws java.io.IOException {
        // the same HTTP port for every process of a test: the node's name (host and port) stays the same across restarts
        if (h.rpc != null) {
            Map<String, String> env = new java.util.HashMap<>(Map.of("UPGRADE_API", "jsonrpc", "UPGRADE_API_URL", h.rpc.apiUrl(),
                    "UPGRADE_EMAIL", ""));
            env.putAll(Map.of("COURIER_HTTP_PORT", h.httpPort(), "UPGRADE_CONTRACT", com.odooupgradecourier.simulator.SimulatorConfig.DEMO_CONTRACT,
                    "UPGRADE_POLL_INTERVAL", "1", "COURIER_SETTLE_TIME", "500",
                    "COURIER_DROP_DIR", h.drop.toString(), "COURIER_OUTPUT_URI", "file:" + h.out,
                    "COURIER_FAILED_DIR", h.failed.toString(), "COURIER_DATA_DIR", h.data.toString()));
            return env;
        }
        return Map.of("COURIER_HTTP_PORT", h.httpPort(), "UPGRADE_API_URL", h.simulator.apiUrl(), "UPGRADE_CONTRACT", com.odooupgradecourier.simulator.SimulatorConfig.DEMO_CONTRACT,
                "UPGRADE_EMAIL", "admin@example.com", "UPGRADE_POLL_INTERVAL", "1", "COURIER_SETTLE_TIME", "500",
                "COURIER_DROP_DIR", h.drop.toString(), "COURIER_OUTPUT_URI", "file:" + h.out,
                "COURIER_FAILED_DIR", h.failed.toString(), "COURIER_DATA_DIR", h.data.toString());
    }

    /** {@code kill -9}: no shutdown hook, no graceful anything. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM, and the exit code once stopped. */
    public int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(90, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
        return process.exitValue();
    }

    public Process process() {
        return process;
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}

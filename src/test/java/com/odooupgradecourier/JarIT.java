package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar, run as a user runs it ({@code java -jar target/odoo-upgrade-courier.jar}) from the
 * project folder: proves that every component and language the routes use is inside it.
 */
class JarIT {
    static final Path JAR = Path.of("target/odoo-upgrade-courier.jar").toAbsolutePath();

    @TempDir
    Path tmp;

    @Test
    void helpListsTheFlagsAndUnknownFlagsAreRefused() throws Exception {
        Process help = start(List.of("--help"), Map.of());
        assertThat(help.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(help.exitValue()).isZero();
        assertThat(Files.readString(tmp.resolve("out.log"))).contains("--simulator", "--once", "--help", "UPGRADE_CONTRACT");

        Process bad = start(List.of("--frobnicate"), Map.of());
        assertThat(bad.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(bad.exitValue()).isEqualTo(2);
        assertThat(Files.readString(tmp.resolve("out.log"))).contains("Unknown argument(s): --frobnicate");
    }

    @Test
    void withoutAContractItRefusesToStartAndSaysWhatToSet() throws Exception {
        Process p = start(List.of(), dirs());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isNotZero();
        assertThat(Files.readString(tmp.resolve("out.log")))
                .contains("missing settings: upgrade.contract (UPGRADE_CONTRACT), upgrade.email (UPGRADE_EMAIL)");
    }

    @Test
    void onceExitsZeroWhenEveryDumpIsDeliveredAndNonZeroWhenOneFailed() throws Exception {
        try (CourierHarness h = new CourierHarness(tmp.resolve("once"))) {
            java.util.Map<String, String> env = CourierProcess.env(h);
            h.dropFile(TestDumps.plainSql(tmp.resolve("staging/first.sql"), 10));
            h.dropFile(TestDumps.plainSql(tmp.resolve("staging/second.sql"), 20));
            Process ok = CourierProcess.start(tmp.resolve("once-ok.log"), List.of("--once"), env).process();
            assertThat(ok.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(ok.exitValue()).isZero();
            assertThat(Files.readString(tmp.resolve("once-ok.log"))).contains("2 dump(s), 2 delivered, 0 failed",
                    "delivered  first.sql -> upgraded_first.sql", "delivered  second.sql -> upgraded_second.sql");
            assertThat(h.out.resolve("upgraded_first.sql")).exists();

            h.dropFile(TestDumps.plainSql(tmp.resolve("staging/third.sql"), 30));
            Files.writeString(h.drop.resolve("broken.sql"), "this is no dump");
            Process bad = CourierProcess.start(tmp.resolve("once-bad.log"), List.of("--once"), env).process();
            assertThat(bad.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(bad.exitValue()).isEqualTo(1);
            assertThat(Files.readString(tmp.resolve("once-bad.log"))).contains("2 dump(s), 1 delivered, 1 failed",
                    "FAILED     broken.sql: not a database dump");
        }
    }

    @Test
    void onceEndsWhenAStepCannotFinishAndTakesNamesAsLongAsTheFileSystemAllows() throws Exception {
        int closedPort = CourierHarness.freePort();
        try (CourierHarness h = new CourierHarness(tmp.resolve("once"))) {
            String longName = "x".repeat(246) + ".sql";
            h.dropFile(TestDumps.plainSql(tmp.resolve("staging/" + longName), 10));
            Process delivered = CourierProcess.start(tmp.resolve("once-long.log"), List.of("--once"), CourierProcess.env(h)).process();
            assertThat(delivered.waitFor(60, TimeUnit.SECONDS)).as("--once ends").isTrue();
            assertThat(delivered.exitValue()).isZero();
            assertThat(Files.readString(tmp.resolve("once-long.log"))).contains("1 dump(s), 1 delivered, 0 failed");

            Map<String, String> env = new java.util.HashMap<>(CourierProcess.env(h));
            env.put("UPGRADE_API_URL", "http://127.0.0.1:" + closedPort + "/database/v1");
            env.put("UPGRADE_TIMEOUT", "4");
            env.put("UPGRADE_RETRY_DELAY", "100");
            env.put("UPGRADE_RETRY_MAX_DELAY", "500");
            h.dropFile(TestDumps.plainSql(tmp.resolve("staging/unreachable.sql"), 10));
            Process stuck = CourierProcess.start(tmp.resolve("once-stuck.log"), List.of("--once"), env).process();
            assertThat(stuck.waitFor(60, TimeUnit.SECONDS)).as("--once ends by upgrade.timeout").isTrue();
            assertThat(stuck.exitValue()).isEqualTo(1);
            assertThat(Files.readString(tmp.resolve("once-stuck.log"))).contains("1 dump(s), 0 delivered, 1 failed",
                    "FAILED     unreachable.sql");
        }
    }

    @Test
    void anUnavailableStoreStopsTheStartWithAClearMessage() throws Exception {
        Map<String, String> env = new java.util.HashMap<>(dirs());
        env.putAll(Map.of("UPGRADE_CONTRACT", "M123456-abcdef", "UPGRADE_EMAIL", "a@example.com",
                "COURIER_STORE_URL", "jdbc:postgresql://127.0.0.1:1/courier"));
        Process p = start(List.of(), env);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isNotZero();
        assertThat(Files.readString(tmp.resolve("out.log")))
                .contains("the store is not available (courier.store.url = jdbc:postgresql://127.0.0.1:1/courier)");
    }

    @Test
    void theSimulatorDemoDeliversADroppedDump() throws Exception {
        Map<String, String> env = new java.util.HashMap<>(dirs());
        env.putAll(Map.of("SIMULATOR_HTTP_PORT", "0", "SIMULATOR_SFTP_PORT", "0", "UPGRADE_POLL_INTERVAL", "1",
                "SIMULATOR_PENDING_TIME", "0.5", "SIMULATOR_PROCESSING_TIME", "1", "COURIER_SETTLE_TIME", "500"));
        Process p = start(List.of("--simulator"), env);
        try {
            Path staged = TestDumps.plainSql(tmp.resolve("staging/demo.sql"), 100);
            Files.move(staged, tmp.resolve("drop/demo.sql"));
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(tmp.resolve("out/upgraded_demo.sql")));
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.readString(tmp.resolve("out.log")).contains("DELIVERED"));
            assertThat(Files.readString(tmp.resolve("out.log"))).contains(
                    "Demo mode: using the built-in simulator", "demo.sql: received", "upgrade request", "uploading",
                    "the platform is upgrading request", "is done", "DELIVERED as upgraded_demo.sql");
        } finally {
            p.destroy();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("stops on SIGTERM").isTrue();
        }
    }

    private Map<String, String> dirs() throws Exception {
        Files.createDirectories(tmp.resolve("drop"));
        return Map.of("COURIER_HTTP_PORT", String.valueOf(CourierHarness.freePort()), "COURIER_DROP_DIR", tmp.resolve("drop").toString(), "COURIER_OUTPUT_URI", "file:" + tmp.resolve("out"),
                "COURIER_FAILED_DIR", tmp.resolve("failed").toString(), "COURIER_DATA_DIR", tmp.resolve("data").toString());
    }

    private Process start(List<String> args, Map<String, String> env) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-jar", JAR.toString()));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("out.log").toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("UPGRADE_") || k.startsWith("COURIER_") || k.startsWith("SIMULATOR_"));
        pb.environment().putAll(env);
        return pb.start();
    }
}

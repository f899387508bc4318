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
        assertThat(Files.readString(tmp.resolve("out.log"))).contains("Usage: java -jar odoo-upgrade-courier.jar [--simulator | --simulator-only]",
                "--once", "--config DIR", "--retry DUMP", "--help", "UPGRADE_CONTRACT");

        Process bad = start(List.of("--frobnicate"), Map.of());
        assertThat(bad.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(bad.exitValue()).isEqualTo(2);
        assertThat(Files.readString(tmp.resolve("out.log"))).contains("Unknown argument(s): --frobnicate");
    }

    @Test
    void startedWhereThereAreNoSettingsItSaysSoInOneLine() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", JAR.toString())
                .directory(empty.toFile()).redirectErrorStream(true).redirectOutput(tmp.resolve("out.log").toFile()).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(2);
        assertThat(Files.readAllLines(tmp.resolve("out.log"))).containsExactly("No application.properties in " + empty
                + ": run the courier from the folder that holds application.properties and routes/, or name that folder with --config DIR.");
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
    void theCurrentProtocolWithoutRsyncAndSshSaysWhatIsMissingInOneLine() throws Exception {
        Map<String, String> env = new java.util.HashMap<>(dirs());
        env.putAll(Map.of("UPGRADE_API", "jsonrpc", "UPGRADE_CONTRACT", "M1", "PATH", Files.createDirectories(tmp.resolve("no-programs")).toString()));
        Process p = start(List.of(), env);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isNotZero();
        assertThat(Files.readString(tmp.resolve("out.log"))).contains("upgrade.api = jsonrpc moves dumps with rsync over ssh, and rsync "
                + "and ssh cannot be found on the PATH (Debian: apt-get install rsync openssh-client)");

        env.put("UPGRADE_API", "soap");
        Process q = start(List.of(), env);
        assertThat(q.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(q.exitValue()).isNotZero();
        assertThat(Files.readString(tmp.resolve("out.log"))).contains("upgrade.api (UPGRADE_API) is 'soap': v1 (the seed's database/v1 API) or "
                + "jsonrpc (the protocol of Odoo's current upgrade client)");
    }

    @Test
    void theCurrentProtocolsDemoDeliversADroppedDump() throws Exception {
        Map<String, String> env = new java.util.HashMap<>(dirs());
        env.putAll(Map.of("UPGRADE_API", "jsonrpc", "SIMULATOR_HTTP_PORT", "0", "SIMULATOR_SFTP_PORT", "0", "UPGRADE_POLL_INTERVAL", "1",
                "SIMULATOR_PENDING_TIME", "0.5", "SIMULATOR_PROCESSING_TIME", "1", "COURIER_SETTLE_TIME", "500"));
        Process p = start(List.of("--simulator"), env);
        try {
            Path staged = TestDumps.plainSql(tmp.resolve("staging/demo.sql"), 100);
            byte[] original = Files.readAllBytes(staged);
            Files.move(staged, tmp.resolve("drop/demo.sql"));
            // the log line comes after the files are in place
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(tmp.resolve("out.log")).contains("DELIVERED as"));
            assertThat(tmp.resolve("out/upgraded_demo.sql.log")).exists();
            assertThat(HttpsFlowIT.unzip(tmp.resolve("out/upgraded_demo.sql.zip")).get("upgraded.sql")).isEqualTo(original);
            assertThat(Files.readString(tmp.resolve("out.log"))).contains("Demo mode: using the built-in simulator", "with rsync over ssh (port",
                    "is done", "DELIVERED as upgraded_demo.sql.zip");
        } finally {
            p.destroy();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("stops on SIGTERM").isTrue();
        }
    }

    @Test
    void onceExitsZeroWhenEveryDumpIsDeliveredAndNonZeroWhenOneFailed() throws Exception {
        try (CourierHarness h = new CourierHarness(tmp.resolve("once"))) {
            java.util.Map<String, String> env = CourierProcess.env(h);
            h.dropFile(TestDumps.plainSql(tmp.resolve("staging/first.sql"), 10));
            h.dropFile(TestDumps.plainSql(tmp.resolve("staging/second.sql"), 20));
            ProcessBuilder split = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                    JAR.toString(), "--once").redirectOutput(tmp.resolve("once-ok.out").toFile()).redirectError(tmp.resolve("once-ok.log").toFile());
            split.environment().keySet().removeIf(k -> k.startsWith("UPGRADE_") || k.startsWith("COURIER_") || k.startsWith("SIMULATOR_"));
            split.environment().putAll(env);
            Process ok = split.start();
            assertThat(ok.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(ok.exitValue()).isZero();
            // the summary alone on standard output, the log on standard error
            assertThat(Files.readString(tmp.resolve("once-ok.out")).strip()).startsWith("Odoo Upgrade Courier --once: 2 dump(s)")
                    .doesNotContain("INFO");
            assertThat(Files.readString(tmp.resolve("once-ok.log"))).contains("Odoo Upgrade Courier ready:").doesNotContain("--once: 2");
            Files.writeString(tmp.resolve("once-ok.log"), Files.readString(tmp.resolve("once-ok.out")), java.nio.file.StandardOpenOption.APPEND);
            assertThat(Files.readString(tmp.resolve("once-ok.log"))).contains("2 dump(s), 2 delivered, 0 failed",
                    "delivered  first.sql -> upgraded_first.sql.zip", "delivered  second.sql -> upgraded_second.sql.zip");
            assertThat(h.out.resolve("upgraded_first.sql.zip")).exists();

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
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(tmp.resolve("out/upgraded_demo.sql.zip")));
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.readString(tmp.resolve("out.log")).contains("DELIVERED"));
            assertThat(Files.readString(tmp.resolve("out.log"))).contains("Odoo Upgrade Courier ready: drop folder " + tmp.resolve("drop"),
                    "Demo mode: using the built-in simulator", "demo.sql: received", "upgrade request", "uploading",
                    "the platform is upgrading request", "is done", "DELIVERED as upgraded_demo.sql.zip");
        } finally {
            p.destroy();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("stops on SIGTERM").isTrue();
        }
    }

    @Test
    void theDemoStoppedMidUpgradeDeliversWhenStartedAgain() throws Exception {
        Map<String, String> env = new java.util.HashMap<>(dirs());
        env.putAll(Map.of("SIMULATOR_HTTP_PORT", String.valueOf(CourierHarness.freePort()),
                "SIMULATOR_SFTP_PORT", String.valueOf(CourierHarness.freePort()), "UPGRADE_POLL_INTERVAL", "1",
                "SIMULATOR_PENDING_TIME", "2", "SIMULATOR_PROCESSING_TIME", "4", "COURIER_SETTLE_TIME", "500"));
        Process first = start(List.of("--simulator"), env);
        try {
            Path staged = TestDumps.plainSql(tmp.resolve("staging/restarted.sql"), 100);
            Files.move(staged, tmp.resolve("drop/restarted.sql"));
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(tmp.resolve("out.log"))
                    .contains("the platform is upgrading request"));
        } finally {
            first.destroy();
            assertThat(first.waitFor(60, TimeUnit.SECONDS)).isTrue();
        }
        Files.move(tmp.resolve("out.log"), tmp.resolve("first.log"));
        Process second = start(List.of("--simulator"), env);
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(tmp.resolve("out/upgraded_restarted.sql.zip")));
            assertThat(tmp.resolve("failed")).isEmptyDirectory();
            assertThat(Files.readString(tmp.resolve("out.log"))).contains("kept from an earlier run");
        } finally {
            second.destroy();
            assertThat(second.waitFor(60, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aDumpTheServicesUserCannotReadFailsAtOnceSayingWhatToDo() throws Exception {
        boolean root = "root".equals(System.getProperty("user.name"));
        if ("true".equals(System.getenv("CI"))) {
            assertThat(root).as("CI runs as root, to run the service as another user").isTrue();
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(root, "needs root to run the service as another user");
        Tools.require("runuser");
        String user = System.getenv().getOrDefault("COURIER_TEST_USER", "nobody");
        Path home = Files.createDirectories(tmp.resolve("unprivileged"));
        Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        try (CourierHarness h = new CourierHarness(home)) {
            java.nio.file.attribute.UserPrincipal owner = home.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(user);
            Files.setOwner(home, owner);
            Files.setOwner(h.drop, owner);
            Path dump = TestDumps.plainSql(home.resolve("secret.sql"), 5);
            Files.setPosixFilePermissions(dump, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            // the service's user reads its jar and settings from a folder of its own: the project's folder may be closed to it
            // (a clone in a mktemp -d folder is rwx------)
            Path app = readableCopyOfTheService(tmp.resolve("app"));
            List<String> command = new java.util.ArrayList<>(List.of("runuser", "-u", user, "--", "env"));
            CourierProcess.env(h).forEach((k, v) -> command.add(k + "=" + v));
            command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-jar",
                    app.resolve(JAR.getFileName()).toString(), "--config", app.toString()));
            Process p = new ProcessBuilder(command).directory(app.toFile()).redirectErrorStream(true)
                    .redirectOutput(tmp.resolve("unprivileged.log").toFile()).start();
            try {
                Files.move(dump, h.drop.resolve("secret.sql"));
                Path record = h.failed.resolve("secret.sql.error.json");
                await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(record));
                assertThat(Files.readString(record)).contains("permission denied: the service's user cannot read secret.sql",
                        "readable by the service's group");
                assertThat(Files.readString(tmp.resolve("unprivileged.log"))).doesNotContain("Failed delivery for");
            } finally {
                p.destroy();
                p.waitFor(60, TimeUnit.SECONDS);
            }
        }
    }

    /** The jar, application.properties and routes/ copied into {@code app}, readable by everyone. */
    private static Path readableCopyOfTheService(Path app) throws Exception {
        Files.createDirectories(app);
        Files.copy(JAR, app.resolve(JAR.getFileName()));
        Files.copy(Path.of("application.properties"), app.resolve("application.properties"));
        try (var walk = Files.walk(Path.of("routes"))) {
            for (Path p : walk.toList()) {
                Files.copy(p, app.resolve(p.toString()));
            }
        }
        try (var walk = Files.walk(app)) {
            for (Path p : walk.toList()) {
                Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        return app;
    }

    @Test
    void secretsInTheOutputUriAndFileNamesThatForgeLogLinesStayOutOfTheLog() throws Exception {
        try (CourierHarness h = new CourierHarness(tmp.resolve("secrets"))) {
            Map<String, String> env = new java.util.HashMap<>(CourierProcess.env(h));
            env.put("COURIER_OUTPUT_URI", "sftp://someone@127.0.0.1:1/out?password=PW-NOT-FOR-LOGS&strictHostKeyChecking=no");
            env.putAll(Map.of("UPGRADE_RETRY_ATTEMPTS", "1", "UPGRADE_RETRY_DELAY", "100", "UPGRADE_RETRY_MAX_DELAY", "500"));
            Path log = tmp.resolve("secrets.log");
            try (CourierProcess courier = CourierProcess.start(log, List.of(), env)) {
                h.dropFile(TestDumps.plainSql(tmp.resolve("staging/evil\n01:02:03.004 INFO  courier      evil: DELIVERED.sql"), 5));
                await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(log).contains("waiting at step downloaded"));
                courier.terminate();
            }
            String text = Files.readString(log);
            assertThat(text).contains("does not verify the SFTP server's host key", "password=***").doesNotContain("PW-NOT-FOR-LOGS");
            assertThat(text.lines()).noneMatch(l -> l.startsWith("01:02:03.004"));
            assertThat(text).contains("evil\\n01:02:03.004");
        }
    }

    @Test
    void aFailedDumpRetriedFromTheCommandLineIsDeliveredWithTheRequestItHad() throws Exception {
        try (CourierHarness h = new CourierHarness(tmp.resolve("retry"))) {
            Path blocker = Files.writeString(tmp.resolve("retry/blocker"), "a file where the output folder should be");
            Map<String, String> env = new java.util.HashMap<>(CourierProcess.env(h));
            env.putAll(Map.of("COURIER_OUTPUT_URI", "file:" + blocker.resolve("out"), "UPGRADE_TIMEOUT", "4",
                    "UPGRADE_RETRY_ATTEMPTS", "1", "UPGRADE_RETRY_DELAY", "100", "UPGRADE_RETRY_MAX_DELAY", "500"));
            Path log = tmp.resolve("retry.log");
            try (CourierProcess first = CourierProcess.start(log, List.of(), env)) {
                h.dropFile(TestDumps.plainSql(tmp.resolve("staging/again.sql"), 20));
                await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(h.failed.resolve("again.sql.error.json")));
                first.terminate();
            }
            Files.delete(blocker);
            env.put("UPGRADE_TIMEOUT", "600");
            Process retry = CourierProcess.start(tmp.resolve("retry-cli.log"), List.of("--retry", "again.sql"), env).process();
            assertThat(retry.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(retry.exitValue()).isZero();
            assertThat(Files.readString(tmp.resolve("retry-cli.log"))).contains("again.sql", "taken up again at step downloaded",
                    "with request 10534");
            try (CourierProcess second = CourierProcess.start(log, List.of(), env)) {
                await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(blocker.resolve("out/upgraded_again.sql.zip")));
                second.terminate();
            }
            assertThat(h.simulator.calls("create")).as("the request it had, not a new one").isEqualTo(1);
            assertThat(h.failed.resolve("again.sql.error.json")).doesNotExist();
        }
    }

    /**
     * The HTTP side answers only to requests that name it (a DNS-rebinding page names its own host and is refused), takes
     * actions only from its own origin (scheme, host and port), lists every health check, and says at start when it is
     * open to the network.
     */
    @Test
    void theHttpSideAnswersOnlyToItsOwnNamesAndOriginAndSaysWhenItIsOpenToTheNetwork() throws Exception {
        try (CourierHarness h = new CourierHarness(tmp.resolve("http"))) {
            Map<String, String> env = new java.util.HashMap<>(CourierProcess.env(h));
            Path log = tmp.resolve("http.log");
            String port = h.httpPort();
            try (CourierProcess courier = CourierProcess.start(log, List.of(), env)) {
                await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(log).contains("Odoo Upgrade Courier ready"));
                assertThat(raw("GET", "/requests", "rebind.attacker.example:" + port, null, port)).startsWith("HTTP/1.1 403")
                        .contains("does not answer to the host name rebind.attacker.example");
                assertThat(raw("GET", "/", "rebind.attacker.example", null, port)).startsWith("HTTP/1.1 403");
                assertThat(raw("GET", "/requests", "127.0.0.1:" + port, null, port)).startsWith("HTTP/1.1 200");
                assertThat(raw("GET", "/requests", "localhost:" + port, null, port)).startsWith("HTTP/1.1 200");
                // actions only from this server's own page: another port of the same host is another site
                assertThat(raw("POST", "/requests/nothing/retry", "localhost:" + port, "http://localhost:3000", port))
                        .startsWith("HTTP/1.1 403").contains("another site");
                assertThat(raw("POST", "/requests/nothing/retry", "localhost:" + port, "http://localhost:" + port, port))
                        .as("its own origin: on to the retry itself, which finds no such dump").startsWith("HTTP/1.1 404");
                String health = raw("GET", "/observe/health", "127.0.0.1:" + port, null, port);
                assertThat(health).startsWith("HTTP/1.1 200").contains("\"store\"", "\"drop-folder\"", "\"output\"",
                        "\"cluster-lock-folder\"", "\"UP\"");
                courier.terminate();
            }
            assertThat(Files.readString(log)).doesNotContain("listen on").doesNotContain("open to whoever");

            env.put("COURIER_HTTP_HOST", "0.0.0.0");
            Path open = tmp.resolve("open.log");
            try (CourierProcess courier = CourierProcess.start(open, List.of(), env)) {
                await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(open).contains("Odoo Upgrade Courier ready"));
                courier.terminate();
            }
            assertThat(Files.readString(open)).containsOnlyOnce("open to whoever can reach that address")
                    .contains("listen on 0.0.0.0:" + port, "/observe/metrics", "Actions (retry) are off until courier.http-token is set");
        }
    }

    @Test
    void retryWithoutADumpPrintsHowToUseIt() throws Exception {
        Process p = start(List.of("--retry"), Map.of());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(2);
        assertThat(Files.readString(tmp.resolve("out.log"))).contains("--retry needs the dump to take up again", "Usage:")
                .doesNotContain("Odoo Upgrade Courier ready");
    }

    /** One HTTP/1.1 request over a plain socket (the JDK's client will not send another Host), the whole answer. */
    static String raw(String method, String path, String host, String origin, String port) throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", Integer.parseInt(port))) {
            socket.setSoTimeout(30_000);
            String request = method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + (origin == null ? "" : "Origin: " + origin + "\r\n")
                    + (method.equals("POST") ? "Content-Length: 0\r\n" : "") + "Connection: close\r\n\r\n";
            socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
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

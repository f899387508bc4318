package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The request key is a bearer secret to a customer's database. A complete flow over HTTPS (with a
 * retried fault), one over SFTP, and a failed one run in the real process; every log line and every file
 * it wrote for people is searched for every key the platform handed out.
 */
class SecretsIT {
    @TempDir
    Path tmp;

    @Test
    void theRequestKeyAppearsInNoLogLineAndNoRecord() throws Exception {
        try (CourierHarness h = new CourierHarness(tmp)) {
            Path log = tmp.resolve("courier.log");
            Map<String, String> env = new HashMap<>(CourierProcess.env(h));
            env.put("UPGRADE_SFTP_THRESHOLD", "1MB");
            env.put("UPGRADE_RETRY_DELAY", "100");
            try (CourierProcess courier = CourierProcess.start(log, List.of(), env)) {
                h.simulator.inject("status", 1, 503, "text/html", "<html>busy</html>");
                h.simulator.inject("download", 1, 404, "text/html", "<html>not yet</html>");
                h.dropFile(TestDumps.plainSql(tmp.resolve("staging/ok.sql"), 50));
                await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(h.out.resolve("upgraded_ok.sql.zip")));

                h.dropFile(TestDumps.customFormat(tmp.resolve("staging/big.dump"), 2 * 1024 * 1024));
                await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(h.out.resolve("upgraded_big.dump.zip")));

                h.simulator.inject("process", 1, 200, "application/json",
                        "{\"failures\": [{\"reason\": \"DATABASE:BROKEN\", \"message\": \"cannot restore\"}]}");
                h.dropFile(TestDumps.plainSql(tmp.resolve("staging/bad.sql"), 5));
                await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(h.failed.resolve("bad.sql.error.json")));
                await().atMost(Duration.ofSeconds(10)).until(() -> Files.readString(log).contains("bad.sql: FAILED"));
                courier.terminate();
            }
            List<String> keys = h.simulator.keys();
            assertThat(keys).hasSize(3);
            assertThat(Files.readString(log)).contains("uploading", "over SFTP", "DELIVERED", "FAILED", "WARN");
            // one line of the courier's own per retry, not Camel's with the exchange
            assertThat(Files.readString(log)).contains("again (retry 1 of 6) after: ").doesNotContain("Failed delivery for");
            // a delivered request's key is gone from the store's files too (secure_delete, the write-ahead log emptied); the
            // failed one keeps its key, for a retry
            for (Path store : List.of(h.data.resolve("courier.db"), h.data.resolve("courier.db-wal"))) {
                String bytes = Files.exists(store) ? Files.readString(store, StandardCharsets.ISO_8859_1) : "";
                for (String delivered : keys.subList(0, 2)) {
                    assertThat(bytes).as("%s still holds a delivered request's key", store).doesNotContain(delivered);
                }
            }
            for (Path file : filesForPeople(h, log)) {
                String text = Files.readString(file, StandardCharsets.ISO_8859_1);
                for (String key : keys) {
                    assertThat(text).as("%s holds a request key", file).doesNotContain(key)
                            .doesNotContain(URLEncoder.encode(key, StandardCharsets.UTF_8));
                }
            }
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(h.data))).isEqualTo("rwx------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(h.data.resolve("courier.db"))))
                    .isEqualTo("rw-------");
        }
    }

    /**
     * With courier.store.secret set, a dump that failed after its request was created keeps its key sealed in the store;
     * {@code --retry} from the command line reads it with the same secret, and the dump is delivered with that request.
     */
    @Test
    void retryFromTheCommandLineOpensASealedKeyWithTheSecret() throws Exception {
        try (CourierHarness h = new CourierHarness(tmp)) {
            Path log = tmp.resolve("sealed.log");
            Map<String, String> env = new HashMap<>(CourierProcess.env(h));
            env.put("COURIER_STORE_SECRET", "a secret of the test, long enough");
            try (CourierProcess courier = CourierProcess.start(log, List.of(), env)) {
                h.simulator.inject("process", 1, 200, "application/json",
                        "{\"failures\": [{\"reason\": \"DATABASE:BUSY\", \"message\": \"try later\"}]}");
                h.dropFile(TestDumps.plainSql(tmp.resolve("staging/sealed.sql"), 5));
                await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(h.failed.resolve("sealed.sql.error.json")));
                courier.terminate();
            }
            Process retry = CourierProcess.start(tmp.resolve("retry.log"), List.of("--retry", "sealed.sql"), env).process();
            assertThat(retry.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(Files.readString(tmp.resolve("retry.log"))).contains("taken up again at step uploaded").doesNotContain("set courier.store.secret");
            assertThat(retry.exitValue()).isZero();
            try (CourierProcess courier = CourierProcess.start(log, List.of(), env)) {
                await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(h.out.resolve("upgraded_sealed.sql.zip")));
                courier.terminate();
            }
            assertThat(h.simulator.calls("create")).as("the request it had").isEqualTo(1);
        }
    }

    /** The log, the error records, what was delivered, and every file under the data folder but the store itself. */
    private static List<Path> filesForPeople(CourierHarness h, Path log) throws Exception {
        List<Path> files = new java.util.ArrayList<>(List.of(log));
        for (Path dir : List.of(h.failed, h.out, h.data)) {
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("courier.db"))
                        .forEach(files::add);
            }
        }
        assertThat(files).anyMatch(p -> p.getFileName().toString().equals("bad.sql.error.json"));
        return files;
    }
}

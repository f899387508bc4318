package com.odooupgradecourier;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Odoo's current protocol ({@code upgrade.api = jsonrpc}) against the JSON-RPC simulator: real HTTP, a real SSH server
 * running the real {@code rsync --server}, and the real {@code rsync} and {@code ssh} on the courier's side.
 */
class JsonRpcFlowIT extends CourierTestSupport {

    @Test
    void aDroppedDumpIsDeliveredByteExactWithItsLogAndReport() throws Exception {
        courier = CourierHarness.jsonrpc(tmp).start();
        Path dump = TestDumps.customFormat(tmp.resolve("staging/acme prod.dump"), 3 * 1024 * 1024);
        byte[] original = Files.readAllBytes(dump);
        Files.writeString(tmp.resolve("staging/acme prod.dump.properties"), "env.ODOO_UPGRADE_SKIP_CHECKS=1\nenv.LANG=fr_FR\n");
        courier.dropFile(tmp.resolve("staging/acme prod.dump.properties"));
        courier.dropFile(dump);

        Path delivered = courier.out.resolve("upgraded_acme prod.dump.zip");
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(delivered));
        Map<String, byte[]> entries = HttpsFlowIT.unzip(delivered);
        assertThat(entries.get("upgraded.dump")).as("the upgraded dump, byte for byte").isEqualTo(original);
        await().atMost(Duration.ofSeconds(10)).until(() -> "delivered".equals(step(courier)));
        try (Stream<Path> files = Files.list(courier.out)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("upgraded_acme prod.dump.zip",
                    "upgraded_acme prod.dump.zip.notes.html", "upgraded_acme prod.dump.log");
        }
        assertThat(courier.out.resolve("upgraded_acme prod.dump.zip.notes.html")).content().contains("Upgrade report");
        assertThat(courier.out.resolve("upgraded_acme prod.dump.log")).content()
                .contains("Migrating modules to 17.0", "finished");
        assertThat(courier.rpc.calls("create")).isEqualTo(1);
        assertThat(courier.rpc.calls("process")).isEqualTo(1);
        assertThat(courier.rpc.calls("transfer/start")).as("one upload, one download").isEqualTo(2);
        assertThat(courier.rpc.calls("transfer/stop")).isEqualTo(2);
        assertThat(courier.rpc.calls("logs")).as("the log was read while the upgrade ran").isGreaterThan(0);
        assertThat(courier.rpc.envVars(0)).containsExactlyInAnyOrder("ODOO_UPGRADE_SKIP_CHECKS=1", "LANG=fr_FR");
        assertThat(courier.rpc.sshServer().bytesReceived()).as("sent once").isLessThan(original.length + 256 * 1024);

        // the status page links the log
        JsonNode row = JSON.readTree(get(courier.http() + "/requests")).get(0);
        assertThat(row.get("log").asText()).isEqualTo("requests/" + row.get("id").asText() + "/log");
        assertThat(row.get("pg_compatible").asBoolean()).isTrue();
        assertThat(get(courier.http() + "/" + row.get("log").asText())).contains("Migrating modules to 17.0");
        assertThat(get(courier.http() + "/")).contains("/log\">log</a>");
    }

    /**
     * One bad backend of three behind a round-robin balancer: every third call is answered 503. A failed call is asked
     * again by itself, so a finished rsync is never run again and the dump gets through.
     */
    @Test
    void aHashMadeWhileTheDumpSettledThatTheFileDoesNotMatchFailsItBeforeRsyncSendsAByte() throws Exception {
        // rsync's bytes are not hashed here: a provisional sha256 (made before the service's renames) is checked against the
        // file first. Made wrong while the dump waits, held at admission (a production upgrade with no test), then let go
        courier = CourierHarness.jsonrpc(tmp).start();
        Path staging = Files.createDirectories(tmp.resolve("staging"));
        Files.writeString(staging.resolve("moved.dump.properties"), "aim = production\n");
        courier.dropFile(staging.resolve("moved.dump.properties"));
        courier.dropFile(TestDumps.customFormat(staging.resolve("moved.dump"), 1 << 20));
        await().atMost(Duration.ofSeconds(30)).until(() -> courier.store().queryForList("select step from dumps", String.class).contains("held"));
        courier.store().update("update dumps set sha256 = ?, sha256_from = 'provisional', step = 'admitted', next_attempt_at = 0", "0".repeat(64));
        JsonNode record = awaitRecord("moved.dump");
        assertThat(record.get("step").asText()).isEqualTo("upload");
        assertThat(record.get("error").asText()).contains("the file changed while it was being taken", "not to the sha256 " + "0".repeat(64));
        assertThat(courier.rpc.calls("transfer/start")).as("no transfer begun").isZero();
        assertThat(courier.out.resolve("upgraded_moved.dump.zip")).doesNotExist();
    }

    @Test
    void everyThirdCallAnswered503IsAskedAgainAloneAndTheDumpGetsThrough() throws Exception {
        courier = CourierHarness.jsonrpc(tmp).start();
        courier.rpc.unavailableEvery(3);
        Path dump = TestDumps.customFormat(tmp.resolve("staging/balanced.dump"), 512 * 1024);
        byte[] original = Files.readAllBytes(dump);
        courier.dropFile(dump);
        Path delivered = courier.out.resolve("upgraded_balanced.dump.zip");
        await().atMost(Duration.ofSeconds(90)).until(() -> Files.exists(delivered));
        assertThat(HttpsFlowIT.unzip(delivered).get("upgraded.dump")).isEqualTo(original);
        assertThat(courier.rpc.sshServer().rsyncRuns()).as("one upload and one download, each run once").isEqualTo(2);
        assertThat(courier.rpc.requestCount()).as("one request").isEqualTo(1);
    }

    @Test
    void anUpgradeThatMayNotRestoreHereIsDeliveredSaidSoAndNotRestored() throws Exception {
        courier = CourierHarness.jsonrpc(tmp).start();
        Files.createDirectories(tmp.resolve("staging"));
        Files.writeString(tmp.resolve("staging/new.sql.properties"), "env.SIMULATOR_PG_INCOMPATIBLE=1\n");
        courier.dropFile(tmp.resolve("staging/new.sql.properties"));
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/new.sql"), 20));
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(courier.out.resolve("upgraded_new.sql.zip")));
        await().atMost(Duration.ofSeconds(10)).until(() -> "delivered".equals(step(courier)));
        assertThat(courier.store().queryForObject("select pg_compatible from dumps", String.class)).isEqualTo("false");
        JsonNode row = JSON.readTree(get(courier.http() + "/requests")).get(0);
        assertThat(row.get("pg_compatible").asBoolean()).isFalse();
        assertThat(get(courier.http() + "/")).contains("is_pg_version_compatible = false");
    }

    @Test
    void aTokenThePlatformRepeatsInOtherTextIsMaskedThereToo() throws Exception {
        courier = CourierHarness.jsonrpc(tmp).start();
        String token = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934c";
        String host = courier.rpc.apiUrl().replaceFirst("^https?://", "");
        // an id as a string, the token repeated in a warning and in a field of its own
        courier.rpc.inject("create", 1, 200, "application/json", "{\"jsonrpc\": \"2.0\", \"id\": null, \"result\": {"
                + "\"request_id\": \"777\", \"token\": \"" + token + "\", \"assigned_host_uri\": \"" + host + "\", "
                + "\"info\": \"Keep your token " + token + " safe\", \"echo\": \"" + token + "\"}}");
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/echo.sql"), 10));
        // the simulator never handed that token out: transfer/start refuses it, verbatim, with the token masked
        JsonNode record = awaitRecord("echo.sql");
        assertThat(record.toString()).contains("The platform refused 'transfer/start': No upgrade request matches this token")
                .doesNotContain(token);
        assertThat(record.get("request_id").asLong()).isEqualTo(777);
        String page = get(courier.http() + "/") + get(courier.http() + "/requests");
        assertThat(page).contains("echo.sql").doesNotContain(token);
        for (Path file : JsonRpcIT.filesForPeople(courier, tmp.resolve("no-log"))) {
            if (Files.exists(file)) {
                assertThat(Files.readString(file, java.nio.charset.StandardCharsets.ISO_8859_1)).as(file.toString()).doesNotContain(token);
            }
        }
    }

    @Test
    void anErrorTheServerMayGetPastIsAskedAgain() throws Exception {
        courier = CourierHarness.jsonrpc(tmp).start();
        courier.rpc.inject("status", 2, 200, "application/json", "{\"jsonrpc\": \"2.0\", \"id\": null, \"error\": {\"code\": 200, "
                + "\"message\": \"Odoo Server Error\", \"data\": {\"name\": \"psycopg2.errors.SerializationFailure\", "
                + "\"message\": \"could not serialize access due to concurrent update\"}}}");
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/busy.sql"), 10));
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(courier.out.resolve("upgraded_busy.sql.zip")));
        assertThat(courier.rpc.calls("create")).isEqualTo(1);
        assertThat(courier.failed).isEmptyDirectory();
    }

    static String get(String url) throws Exception {
        return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void aBrokenRsyncUploadResumesWhereItBroke() throws Exception {
        courier = CourierHarness.jsonrpc(tmp).start();
        Path dump = TestDumps.customFormat(tmp.resolve("staging/big.dump"), 8 * 1024 * 1024);
        byte[] original = Files.readAllBytes(dump);
        courier.rpc.sshServer().dropConnectionOnceAfter(5 * 1024 * 1024);
        courier.dropFile(dump);

        Path delivered = courier.out.resolve("upgraded_big.dump.zip");
        await().atMost(Duration.ofSeconds(90)).until(() -> Files.exists(delivered));
        assertThat(HttpsFlowIT.unzip(delivered).get("upgraded.dump")).isEqualTo(original);
        assertThat(courier.rpc.calls("transfer/start")).as("two upload attempts and a download").isEqualTo(3);
        assertThat(courier.rpc.sshServer().bytesReceived()).as("the second attempt sent what was missing, not all again")
                .isBetween((long) original.length, original.length + 2L * 1024 * 1024);
        assertThat(courier.rpc.calls("create")).isEqualTo(1);
    }

    @Test
    void aFailedUpgradeEndsInARecordWithTheReasonVerbatim() throws Exception {
        courier = CourierHarness.jsonrpc(tmp, CourierHarness.fastSimulator().failingContract("M-FAILING-UPGRADE"))
                .with("upgrade.contract", "M-FAILING-UPGRADE").start();
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/old.sql"), 10));
        JsonNode record = awaitRecord("old.sql");
        assertThat(record.toString()).contains("The upgrade of your database failed: module 'legacy_report' has no equivalent "
                + "in the target version. Contact Odoo support with your request id.");
        assertThat(courier.rpc.calls("create")).isEqualTo(1);
    }

    @Test
    void aJsonRpcErrorIsKeptVerbatimAndIsFinal() throws Exception {
        courier = CourierHarness.jsonrpc(tmp).start();
        courier.rpc.inject("create", 1, 200, "application/json", "{\"jsonrpc\": \"2.0\", \"id\": null, \"error\": {\"code\": 200, "
                + "\"message\": \"Odoo Server Error\", \"data\": {\"name\": \"odoo.exceptions.UserError\", "
                + "\"message\": \"Your subscription M-DEMO has expired on 2026-01-31 (code 42).\"}}}");
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/expired.sql"), 10));
        JsonNode record = awaitRecord("expired.sql");
        assertThat(record.toString()).contains("Your subscription M-DEMO has expired on 2026-01-31 (code 42).");
        assertThat(courier.rpc.calls("create")).as("a refusal is not asked again").isEqualTo(1);

        courier.rpc.inject("create", 1, 200, "application/json", "{\"jsonrpc\": \"2.0\", \"id\": null, "
                + "\"result\": {\"error\": \"Invalid target version '99.0'.\"}}");
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/other.sql"), 11));
        assertThat(awaitRecord("other.sql").toString()).contains("Invalid target version '99.0'.");
    }

    @Test
    void aHostKeyThePlatformDidNotNameIsRefusedAndFinal() throws Exception {
        courier = CourierHarness.jsonrpc(tmp).start();
        courier.rpc.wrongHostKey(true);
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/mitm.sql"), 10));
        JsonNode record = awaitRecord("mitm.sql");
        assertThat(record.toString()).contains("Host key verification failed", "someone may be between the two");
        assertThat(record.get("what_to_do").asText()).contains("host key is not the one trusted");
        assertThat(courier.rpc.calls("transfer/start")).as("not tried again").isEqualTo(1);
        assertThat(courier.rpc.sshServer().bytesReceived()).isZero();
    }

    static String step(CourierHarness h) {
        return h.store().queryForObject("select step from dumps", String.class);
    }
}

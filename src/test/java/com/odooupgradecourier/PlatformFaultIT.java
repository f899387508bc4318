package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Platform and network faults, injected into the real simulator: retried when they may pass, final otherwise. */
class PlatformFaultIT extends CourierTestSupport {
    private static final String HTML_503 = "<html><head><title>503 Service Unavailable</title></head><body>down for maintenance</body></html>";



    @Test
    void faultsThatMayPassAreRetriedUntilTheyDo() throws Exception {
        courier = new CourierHarness(tmp).with("upgrade.retry.attempts", "3").start();
        courier.simulator.inject("create", 2, 503, "text/html", HTML_503);
        courier.simulator.inject("upload", 1, 200, "application/json", "{\"failures\": [], oops");
        courier.simulator.inject("process", 1, 200, "application/json",
                "{\"failures\": [{\"reason\": \"SERVER:ERROR\", \"message\": \"try again\"}]}");
        courier.simulator.inject("status", 2, 502, "text/html", "<html>bad gateway</html>");
        courier.simulator.inject("download", 1, 404, "text/html", "<html>not yet</html>");
        Path dump = TestDumps.plainSql(tmp.resolve("staging/bumpy.sql"), 20);
        courier.dropFile(dump);

        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(courier.out.resolve("upgraded_bumpy.sql.zip")));
        assertThat(courier.simulator.calls("create")).isEqualTo(3);
        assertThat(courier.simulator.calls("upload")).isEqualTo(2);
        assertThat(courier.simulator.calls("process")).isEqualTo(2);
        assertThat(courier.simulator.createdFor("bumpy.sql")).as("retries never create a second request").isEqualTo(1);
        assertThat(courier.failed).isEmptyDirectory();
    }

    @Test
    void aFaultThatLastsBeyondTheDumpsLifetimeEndsInARecordWithTheStatusAndAnExcerpt() throws Exception {
        courier = new CourierHarness(tmp).with("upgrade.timeout", "2").start();
        courier.simulator.inject("create", 1000, 503, "text/html", HTML_503);
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/down.sql"), 5));

        JsonNode r = awaitRecord("down.sql");
        assertThat(r.get("http_status").asInt()).isEqualTo(503);
        assertThat(r.get("error").asText()).contains("upgrade.timeout", "HTTP 503", "503 Service Unavailable", "down for maintenance");
        assertThat(courier.simulator.calls("create")).as("tried in the step, then again after waiting").isGreaterThan(3);
        assertThat(courier.simulator.requestCount()).isZero();
        assertThat(courier.failed.resolve("down.sql")).exists();
    }

    @Test
    void otherFailuresAreFinalAndKeptVerbatim() throws Exception {
        courier = new CourierHarness(tmp).start();
        courier.simulator.inject("create", 1, 200, "application/json", "{\"failures\": [{\"reason\": \"DATABASE:TOO_OLD\", "
                + "\"message\": \"Databases older than 8.0 are not supported\", \"min_version\": \"8.0\", "
                + "\"details\": {\"found\": [\"7.0\"], \"hint\": null}}]}");
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/ancient.sql"), 5));

        JsonNode failure = awaitRecord("ancient.sql").get("failures").get(0);
        assertThat(failure.get("reason").asText()).isEqualTo("DATABASE:TOO_OLD");
        assertThat(failure.get("min_version").asText()).isEqualTo("8.0");
        assertThat(failure.at("/details/found/0").asText()).isEqualTo("7.0");
        assertThat(failure.get("details").has("hint")).isTrue();
        assertThat(courier.simulator.calls("create")).as("not retried").isEqualTo(1);
    }

    @Test
    void cancelledAndInvalidStatesEndWithTheMessageAndTheMaskedStatusPage() throws Exception {
        for (String state : new String[] {"cancelled", "invalid"}) {
            Path dir = Files.createDirectories(tmp.resolve(state));
            try (CourierHarness c = new CourierHarness(dir).start()) {
                c.simulator.inject("status", 1, 200, "application/json", "{\"failures\": [], \"request\": {\"state\": \"" + state
                        + "\", \"customer_message\": \"Stopped by Odoo support\", \"status_url\": "
                        + "\"https://upgrade.odoo.com/database/eu1/10534/Aw7pItGVKFuZ_FOR3U8VFQ==/status\"}}");
                c.dropFile(TestDumps.plainSql(dir.resolve("staging/" + state + ".sql"), 5));
                Path record = c.failed.resolve(state + ".sql.error.json");
                await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(record));
                JsonNode r = JSON.readTree(record.toFile());
                assertThat(r.get("state").asText()).isEqualTo(state);
                assertThat(r.get("customer_message").asText()).isEqualTo("Stopped by Odoo support");
                assertThat(r.get("status_url").asText()).isEqualTo("https://upgrade.odoo.com/database/eu1/10534/***/status");
                assertThat(Files.readString(record)).doesNotContain("Aw7pItGVKFuZ");
            }
        }
    }

    @Test
    void anUnknownStateIsStillRunning() throws Exception {
        courier = new CourierHarness(tmp).start();
        courier.simulator.holdAt("process");
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/new.sql"), 5));
        await().atMost(Duration.ofSeconds(30)).until(() -> courier.simulator.heldAt("process") > 0);
        courier.simulator.inject("status", 2, 200, "application/json",
                "{\"failures\": [], \"request\": {\"state\": \"reticulating\", \"customer_message\": null}}");
        courier.simulator.release("process");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(courier.out.resolve("upgraded_new.sql.zip")));
        assertThat(courier.simulator.calls("status")).isGreaterThanOrEqualTo(3);
    }

    @Test
    void aPlatformThatCannotBeReachedEndsInARecordAfterRetries() throws Exception {
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        courier = new CourierHarness(tmp).with("upgrade.api-url", "http://127.0.0.1:" + closedPort + "/database/v1")
                .with("upgrade.timeout", "2").start();
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/offline.sql"), 5));
        JsonNode r = awaitRecord("offline.sql");
        assertThat(r.get("step").asText()).isEqualTo("create");
        assertThat(r.get("error").asText()).contains("upgrade.timeout").containsIgnoringCase("connect");
        assertThat(r.get("what_to_do").asText()).contains("could not be reached");
        assertThat(courier.failed.resolve("offline.sql")).exists();
    }

    @Test
    void aDownloadThatKeepsFailingIsNeverDeliveredPartially() throws Exception {
        courier = new CourierHarness(tmp).with("upgrade.timeout", "3").start();
        courier.simulator.inject("download", 1000, 404, "text/html", "<html>gone</html>");
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/lost.sql"), 5));
        JsonNode r = awaitRecord("lost.sql");
        assertThat(r.get("step").asText()).isEqualTo("download");
        assertThat(r.get("error").asText()).contains("HTTP 404");
        assertThat(r.get("request_id").asLong()).isEqualTo(10534);
        assertThat(courier.out).isEmptyDirectory();
        assertThat(courier.failed.resolve("lost.sql")).exists();
    }

    @Test
    void anUnavailableOutputIsRetriedAndTheArchiveKeptLocally() throws Exception {
        Path notAFolder = Files.writeString(tmp.resolve("blocker"), "a file where the output folder should be");
        courier = new CourierHarness(tmp).with("courier.output-uri", "file:" + notAFolder.resolve("out"))
                .with("upgrade.timeout", "3").start();
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/stuck.sql"), 5));
        JsonNode r = awaitRecord("stuck.sql");
        assertThat(r.get("step").asText()).isEqualTo("deliver");
        Path archive = Path.of(r.get("archive_now_at").asText());
        assertThat(HttpsFlowIT.unzip(archive)).containsKey("dump.sql");
    }

}

package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** What a new user and an operator meet in the first hour: settings files, folders, the page, its actions, metrics. */
class FirstHourIT extends CourierTestSupport {
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void aSettingsFileThatComesAfterItsDumpGoesToFailedWithARecordInsteadOfWaitingForTheNextDump() throws Exception {
        courier = new CourierHarness(tmp).with("courier.settle-timeout", "1500").start();
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/late.sql"), 5));
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(courier.out.resolve("upgraded_late.sql.zip")));
        Files.writeString(courier.drop.resolve("late.sql.properties"), "target = 16.0\n");

        JsonNode r = awaitRecord("late.sql.properties");
        assertThat(r.get("error").asText()).contains("a settings file with no dump", "late.sql");
        assertThat(courier.failed.resolve("late.sql.properties")).hasContent("target = 16.0\n");
        assertThat(courier.drop.resolve("late.sql.properties")).doesNotExist();
    }

    @Test
    void aSettingsFileThatLinksToAnotherFileIsNotReadAndNothingOfItIsShown() throws Exception {
        courier = new CourierHarness(tmp).start();
        Path secret = Files.writeString(tmp.resolve("id_ed25519"),
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQSECRETLINE\n-----END OPENSSH PRIVATE KEY-----\n");
        Files.createSymbolicLink(courier.drop.resolve("linked.sql.properties"), secret);
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/linked.sql"), 5));

        JsonNode r = awaitRecord("linked.sql");
        assertThat(r.get("error").asText()).contains("not a link");
        String everything = Files.readString(courier.failed.resolve("linked.sql.error.json")) + get("/requests").body() + get("/").body();
        assertThat(everything).doesNotContain("SECRETLINE", "BEGIN OPENSSH");
        assertThat(secret).exists();
    }

    @Test
    void unknownSettingsAreNamedWithoutTheirValuesAndLinesThatAreNoSettingAreOnlyCounted() throws Exception {
        courier = new CourierHarness(tmp).start();
        Files.writeString(courier.drop.resolve("odd.sql.properties"), "colour = blue\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n");
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/odd.sql"), 5));
        String error = awaitRecord("odd.sql").get("error").asText();
        assertThat(error).contains("unknown setting(s) [colour] and 1 line(s) that are not settings").doesNotContain("blue", "b3Bl");
    }

    @Test
    void theFoldersPeopleShareAreMadeForTheServicesGroupAndTheStoreIsCheckedForReal() throws Exception {
        courier = new CourierHarness(tmp);
        Files.delete(courier.drop);
        courier.start();
        for (Path dir : new Path[] {courier.drop, courier.failed, courier.out}) {
            assertThat(Integer.toOctalString((Integer) Files.getAttribute(dir, "unix:mode") & 07777)).as(dir.toString()).isEqualTo("2770");
        }
        assertThat(Integer.toOctalString((Integer) Files.getAttribute(courier.data, "unix:mode") & 07777)).isEqualTo("700");
        HttpResponse<String> up = get("/observe/health?exposureLevel=full");
        assertThat(up.statusCode()).as(up.body()).isEqualTo(200);
        assertThat(up.body()).doesNotContain("\\/");

        Files.delete(courier.data.resolve("courier.db"));
        HttpResponse<String> down = get("/observe/health?exposureLevel=full");
        assertThat(down.statusCode()).isEqualTo(503);
        assertThat(down.body()).contains("store").doesNotContain("\\/");
    }

    @Test
    void everyCounterIsThereFromTheStartWithDumpsPerStepAndTheTimeToDelivery() throws Exception {
        courier = new CourierHarness(tmp).start();
        String before = get("/observe/metrics").body();
        assertThat(before).contains("# HELP courier_dumps_failed_total dumps that failed",
                "courier_dumps_failed_total{camelContext=\"odoo-upgrade-courier\"} 0.0",
                "courier_dumps_received_total{camelContext=\"odoo-upgrade-courier\"} 0.0",
                "courier_dumps_in_step{step=\"delivered\"} 0.0");
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/counted.sql"), 5));
        await().atMost(Duration.ofSeconds(30)).until(() -> get("/observe/metrics").body()
                .contains("courier_dumps_in_step{step=\"delivered\"} 1.0"));
        String after = get("/observe/metrics").body();
        assertThat(after).contains("courier_dump_delivery_seconds_count 1", "courier_dump_delivery_seconds_bucket{le=\"60.0\"} 1");
    }

    @Test
    void theStatusPageShowsTimesAndARetryButtonThatDeliversWithoutASecondRequest() throws Exception {
        Tools.require("chromium");
        courier = new CourierHarness(tmp).with("upgrade.timeout", "4").start();
        courier.simulator.inject("download", 100_000, 503, "text/html", "<html>down</html>");
        Path dump = TestDumps.plainSql(tmp.resolve("staging/again.sql"), 50);
        byte[] original = Files.readAllBytes(dump);
        courier.dropFile(dump);
        JsonNode r = awaitRecord("again.sql");
        assertThat(r.get("step").asText()).isEqualTo("download");
        courier.simulator.clearInjected("download");

        String dom = Tools.run("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + Files.createDirectories(tmp.resolve("chromium")), "--dump-dom", courier.http() + "/");
        assertThat(dom).contains("title=\"again.sql\">again.sql</span>", "<span class=\"step s-failed\">failed</span>", "request 10534")
                .containsPattern("<td data-label=\"Size\">[0-9.]+ kB</td>")
                .containsPattern("<time datetime=\"[0-9T:.-]+Z\">\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d [A-Za-z0-9+:-]+</time>")
                .doesNotContain("href=\"http");
        Matcher form = Pattern.compile("<form method=\"post\" action=\"(requests/[^\"]+/retry)\"><button").matcher(dom);
        assertThat(form.find()).as("a retry button").isTrue();

        HttpResponse<String> retried = http.send(HttpRequest.newBuilder(URI.create(courier.http() + "/" + form.group(1)))
                .header("Accept", "text/html").POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(retried.statusCode()).isEqualTo(303);
        Path delivered = courier.out.resolve("upgraded_again.sql.zip");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(delivered));
        assertThat(HttpsFlowIT.unzip(delivered).get("dump.sql")).isEqualTo(original);
        assertThat(courier.simulator.calls("create")).as("the request the platform still has").isEqualTo(1);
        assertThat(courier.failed.resolve("again.sql")).doesNotExist();
        assertThat(courier.failed.resolve("again.sql.error.json")).doesNotExist();
    }

    @Test
    void offLoopbackAnActionNeedsTheTokenAndAnotherSiteIsRefused() throws Exception {
        courier = new CourierHarness(tmp).with("courier.http-host", "0.0.0.0").start();
        assertThat(post("/requests/nothing/retry", null, null).statusCode()).isEqualTo(403);
        assertThat(get("/").body()).contains("courier.http-token is not set");
        courier.close();

        courier = new CourierHarness(Files.createDirectories(tmp.resolve("with-token"))).with("courier.http-host", "0.0.0.0")
                .with("courier.http-token", "s3cret-token").start();
        assertThat(post("/requests/nothing/retry", null, null).statusCode()).isEqualTo(401);
        assertThat(post("/requests/nothing/retry", "Bearer wrong", null).statusCode()).isEqualTo(401);
        HttpResponse<String> allowed = post("/requests/nothing/retry", "Bearer s3cret-token", null);
        assertThat(allowed.statusCode()).as("allowed, and there is no such dump").isEqualTo(404);
        assertThat(JSON.readTree(allowed.body()).get("error").asText()).contains("no dump");
        assertThat(post("/requests/nothing/retry", "Bearer s3cret-token", "http://evil.example").statusCode()).isEqualTo(403);
    }

    @Test
    void aRequestThePlatformNoLongerKnowsSaysWhatThatMeans() throws Exception {
        courier = new CourierHarness(tmp, com.odooupgradecourier.simulator.SimulatorConfig.defaults()
                .timings(Duration.ofMinutes(10), Duration.ofMinutes(10))).start();
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/forgotten.sql"), 5));
        await().atMost(Duration.ofSeconds(30)).until(() -> courier.simulator.calls("process") > 0);
        courier.simulator.inject("status", 1, 200, "application/json",
                "{\"failures\": [{\"reason\": \"REQUEST:NOT_FOUND\", \"message\": \"Can not find request 10534\", \"value\": \"10534\"}]}");
        JsonNode r = awaitRecord("forgotten.sql");
        assertThat(r.get("what_to_do").asText()).contains("no longer knows this request");
    }

    @Test
    void withAStoreSecretRequestKeysAreKeptEncryptedAndNeededFromThenOn() throws Exception {
        courier = new CourierHarness(tmp, com.odooupgradecourier.simulator.SimulatorConfig.defaults()
                .timings(Duration.ofSeconds(4), Duration.ofSeconds(1))).with("courier.store.secret", "a-long-random-secret").start();
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/sealed.sql"), 5));
        await().atMost(Duration.ofSeconds(30)).until(() -> courier.simulator.calls("process") > 0);
        String stored = courier.store().queryForObject("select request_key from dumps", String.class);
        assertThat(stored).startsWith("aesgcm:").doesNotContain(courier.simulator.keys().get(0));
        await().atMost(Duration.ofSeconds(30)).until(() -> "processing".equals(courier.store().queryForObject("select step from dumps", String.class))
                && courier.store().queryForObject("select status_url from dumps", String.class) != null);
        assertThat(courier.store().queryForObject("select status_url from dumps", String.class)).as("the URL holds the key too")
                .startsWith("aesgcm:");
        courier.stopCourier();

        CourierHarness without = new CourierHarness(Files.createDirectories(tmp.resolve("again")));
        try {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> new CourierMain(false, java.util.Map.of(
                    "courier.data-dir", courier.data.toString(), "courier.drop-dir", courier.drop.toString(),
                    "upgrade.api-url", courier.simulator.apiUrl(), "upgrade.contract", "x", "upgrade.email", "a@b.c",
                    "courier.http-port", String.valueOf(CourierHarness.freePort()))).start())
                    .hasStackTraceContaining("set courier.store.secret");
        } finally {
            without.close();
        }
        CourierHarness wrong = new CourierHarness(Files.createDirectories(tmp.resolve("wrong")));
        try {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> new CourierMain(false, java.util.Map.of(
                    "courier.data-dir", courier.data.toString(), "courier.drop-dir", courier.drop.toString(),
                    "courier.store.secret", "not-the-secret", "upgrade.api-url", courier.simulator.apiUrl(), "upgrade.contract", "x",
                    "upgrade.email", "a@b.c", "courier.http-port", String.valueOf(CourierHarness.freePort()))).start())
                    .hasStackTraceContaining("does not open the request keys");
        } finally {
            wrong.close();
        }
        courier.start();
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(courier.out.resolve("upgraded_sealed.sql.zip")));
        await().atMost(Duration.ofSeconds(10)).until(() -> "delivered".equals(courier.store().queryForObject("select step from dumps", String.class)));
        assertThat(courier.store().queryForMap("select request_key, status_url, download_url, notes_url from dumps").values())
                .as("a delivered request's key is kept no longer").containsOnlyNulls();
    }

    @Test
    void aRetryOfACopyWhoseTwinIsInFlightIsRefusedAndTouchesNothing() throws Exception {
        courier = new CourierHarness(tmp, com.odooupgradecourier.simulator.SimulatorConfig.defaults()
                .timings(Duration.ofMinutes(10), Duration.ofMinutes(10))).start();
        Path first = TestDumps.plainSql(tmp.resolve("staging/twin.sql"), 20);
        courier.dropFile(Files.copy(first, tmp.resolve("staging/copy.sql")));
        await().atMost(Duration.ofSeconds(30)).until(() -> courier.simulator.calls("process") > 0);
        courier.dropFile(first);
        awaitRecord("twin.sql");
        String id = courier.store().queryForObject("select id from dumps where file_name = 'twin.sql'", String.class);
        HttpResponse<String> refused = post("/requests/" + id + "/retry", null, null);
        assertThat(refused.statusCode()).isEqualTo(409);
        assertThat(refused.body()).contains("in flight as copy.sql");
        assertThat(courier.failed.resolve("twin.sql")).exists();
        assertThat(courier.failed.resolve("twin.sql.error.json")).exists();
        assertThat(courier.store().queryForObject("select step from dumps where id = ?", String.class, id)).isEqualTo("failed");

        Files.delete(courier.failed.resolve("twin.sql"));
        HttpResponse<String> gone = post("/requests/" + id + "/retry", null, null);
        assertThat(gone.statusCode()).isEqualTo(410);
        assertThat(gone.body()).contains("drop the dump again");
        assertThat(get("/").body()).doesNotContain("requests/" + id + "/retry");
    }

    @Test
    void aRetryAfterTheSettingsWereCorrectedReadsThemAgain() throws Exception {
        courier = new CourierHarness(tmp).start();
        Files.writeString(courier.drop.resolve("fixme.sql.properties"), "target = 5.0\n");
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/fixme.sql"), 5));
        JsonNode r = awaitRecord("fixme.sql");
        assertThat(r.at("/failures/0/reason").asText()).isEqualTo("TARGET:INVALID");
        assertThat(r.get("what_to_do").asText()).contains("retry the dump");
        Files.writeString(courier.failed.resolve("fixme.sql.properties"), "target = 16.0\n");
        String id = courier.store().queryForObject("select id from dumps", String.class);
        assertThat(post("/requests/" + id + "/retry", null, null).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(courier.out.resolve("upgraded_fixme.sql.zip")));
        long request = courier.store().queryForObject("select request_id from dumps", Long.class);
        assertThat(courier.simulator.createdWith(request)).containsEntry("target", "16.0");
    }

    @Test
    void aSettingsFileDroppedBeforeItsDumpWaitsForItHoweverLongTheCopyTakes() throws Exception {
        courier = new CourierHarness(tmp, CourierHarness.fastSimulator().contract("M-CLIENT-Z"))
                .with("courier.settle-timeout", "3000").start();
        Files.writeString(courier.drop.resolve("slow.sql.properties"), "contract = M-CLIENT-Z\n");
        Path partial = courier.drop.resolve(".slow.sql.part");
        Files.copy(TestDumps.plainSql(tmp.resolve("staging/slow.sql"), 30), partial);
        // the copy takes longer than the settle timeout: the settings file waits
        await().during(Duration.ofSeconds(9)).atMost(Duration.ofSeconds(12))
                .until(() -> Files.exists(courier.drop.resolve("slow.sql.properties")));
        Files.move(partial, courier.drop.resolve("slow.sql"));
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(courier.out.resolve("upgraded_slow.sql.zip")));
        long request = courier.store().queryForObject("select request_id from dumps", Long.class);
        assertThat(courier.simulator.createdWith(request)).containsEntry("contract", "M-CLIENT-Z");
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(courier.http() + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String authorization, String origin) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(courier.http() + path)).POST(HttpRequest.BodyPublishers.noBody());
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        if (origin != null) {
            b.header("Origin", origin);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}

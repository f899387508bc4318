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
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** What the people running the service see: health, metrics, the status API and page, notifications, per-dump settings. */
class ServiceIT extends CourierTestSupport {
    private final HttpClient http = HttpClient.newHttpClient();



    @Test
    void healthMetricsAndTheStatusApiFollowADumpThroughItsSteps() throws Exception {
        courier = new CourierHarness(tmp).start();
        HttpResponse<String> health = get("/observe/health");
        assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
        assertThat(health.body()).contains("\"UP\"");

        courier.simulator.holdAt("status-processing");
        Path dump = TestDumps.plainSql(tmp.resolve("staging/watched.sql"), 100);
        long size = Files.size(dump);
        courier.dropFile(dump);
        await().atMost(Duration.ofSeconds(30)).until(() -> courier.simulator.heldAt("status-processing") > 0);
        JsonNode inFlight = JSON.readTree(get("/requests").body()).get(0);
        assertThat(inFlight.get("dump").asText()).isEqualTo("watched.sql");
        assertThat(inFlight.get("step").asText()).isEqualTo("processing");
        assertThat(inFlight.get("request_id").asLong()).isEqualTo(10534);
        assertThat(inFlight.has("key")).isFalse();

        courier.simulator.release("status-processing");
        await().atMost(Duration.ofSeconds(30)).until(() ->
                JSON.readTree(get("/requests").body()).get(0).get("step").asText().equals("delivered"));
        JsonNode done = JSON.readTree(get("/requests").body()).get(0);
        assertThat(done.get("state").asText()).isEqualTo("done");
        assertThat(done.get("status_url").isNull()).as("a delivered request's URLs are kept no longer").isTrue();
        String everything = get("/requests").body() + get("/").body();
        courier.simulator.keys().forEach(key -> assertThat(everything).doesNotContain(key));

        String metrics = get("/observe/metrics").body();
        assertThat(metrics).contains("courier_dumps_received_total{camelContext=\"odoo-upgrade-courier\"} 1.0",
                "courier_dumps_delivered_total{camelContext=\"odoo-upgrade-courier\"} 1.0");
        double bytes = metrics.lines().filter(l -> l.startsWith("courier_bytes_transferred_bytes_total"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst().orElse(0);
        assertThat(bytes).as("upload and download counted").isGreaterThan(2.0 * size);
    }

    @Test
    void readinessGoesDownWhenTheDropFolderIsGone() throws Exception {
        courier = new CourierHarness(tmp).start();
        HttpResponse<String> up = get("/observe/health?exposureLevel=full");
        assertThat(up.statusCode()).as(up.body()).isEqualTo(200);
        Files.delete(courier.drop);
        HttpResponse<String> health = get("/observe/health");
        assertThat(health.statusCode()).isEqualTo(503);
        assertThat(health.body()).contains("DOWN");
    }

    @Test
    void anEventIsSentWhenADumpIsDeliveredAndWhenOneFails() throws Exception {
        Path events = tmp.resolve("events");
        courier = new CourierHarness(tmp).with("courier.notify-uri", "file:" + events + "?fileName=${exchangeProperty.fileName}.json")
                .start();
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/good.sql"), 5));
        Files.writeString(tmp.resolve("staging/bad.sql"), "not a dump");
        courier.dropFile(tmp.resolve("staging/bad.sql"));

        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(events.resolve("good.sql.json"))
                && Files.exists(events.resolve("bad.sql.json")));
        JsonNode good = JSON.readTree(events.resolve("good.sql.json").toFile());
        assertThat(good.get("outcome").asText()).isEqualTo("delivered");
        assertThat(good.get("request_id").asLong()).isEqualTo(10534);
        assertThat(good.get("target").asText()).isEqualTo("17.0");
        assertThat(good.get("aim").asText()).isEqualTo("test");
        assertThat(good.get("archive").asText()).endsWith("upgraded_good.sql.zip");
        JsonNode bad = JSON.readTree(events.resolve("bad.sql.json").toFile());
        assertThat(bad.get("outcome").asText()).isEqualTo("failed");
        assertThat(bad.get("error").asText()).contains("not a database dump");
        assertThat(bad.get("error_record").asText()).endsWith("bad.sql.error.json");
    }

    @Test
    void aSidecarSetsTheContractAndTargetOfItsDumpOnly() throws Exception {
        courier = new CourierHarness(tmp, CourierHarness.fastSimulator().contract("M-CLIENT-A")).start();
        Files.writeString(courier.drop.resolve("client-a.sql.properties"), "# client A\ncontract = M-CLIENT-A\ntarget = 16.0\n");
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/client-a.sql"), 5));
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/client-b.sql"), 6));
        Files.writeString(courier.drop.resolve("client-c.sql.properties"), "contract = M123456-abcdef\ncolour = blue\n");
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/client-c.sql"), 7));

        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(courier.out.resolve("upgraded_client-a.sql.zip"))
                && Files.exists(courier.out.resolve("upgraded_client-b.sql.zip")));
        List<Long> ids = courier.store().queryForList("select request_id from dumps where file_name like 'client-_.sql' "
                + "and request_id is not null order by file_name", Long.class);
        assertThat(courier.simulator.createdWith(ids.get(0))).containsEntry("contract", "M-CLIENT-A").containsEntry("target", "16.0");
        assertThat(courier.simulator.createdWith(ids.get(1))).containsEntry("contract",
                com.odooupgradecourier.simulator.SimulatorConfig.DEMO_CONTRACT).containsEntry("target", "17.0");
        // a delivered dump and its settings are archived once released from custody, just after delivery
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            try (Stream<Path> archived = Files.walk(courier.data.resolve("archive"))) {
                assertThat(archived.map(p -> p.getFileName().toString())).contains("client-a.sql.properties");
            }
        });
        Path record = courier.failed.resolve("client-c.sql.error.json");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(record));
        assertThat(Files.readString(record)).contains("unknown setting(s) [colour]");
        assertThat(courier.failed.resolve("client-c.sql.properties")).exists();
    }

    @Test
    void theStatusPageRendersTheTableInABrowser() throws Exception {
        Tools.require("chromium");
        courier = new CourierHarness(tmp).start();
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/shown <b>.sql"), 5));
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(courier.out.resolve("upgraded_shown <b>.sql.zip")));
        String dom = Tools.run("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + Files.createDirectories(tmp.resolve("chromium")), "--dump-dom", courier.http() + "/");
        assertThat(dom).contains("<table class=\"dumps\" id=\"requests\">", "title=\"shown &lt;b&gt;.sql\">shown &lt;b&gt;.sql</span>",
                "<span class=\"step s-delivered\">delivered</span>");
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(courier.http() + path)).build(), HttpResponse.BodyHandlers.ofString());
    }
}

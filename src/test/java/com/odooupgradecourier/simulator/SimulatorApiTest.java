package com.odooupgradecourier.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import com.odooupgradecourier.Tools;

/** The simulator answers as the platform's documentation says, over real HTTP. */
class SimulatorApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    @TempDir
    Path tmp;
    UpgradePlatformSimulator sim;

    @BeforeEach
    void start() throws Exception {
        sim = new UpgradePlatformSimulator(SimulatorConfig.defaults().httpPort(0).sftpPort(0).storageDir(tmp.resolve("sim"))
                .timings(Duration.ofMillis(300), Duration.ofMillis(600))).start();
    }

    @AfterEach
    void stop() {
        sim.close();
    }

    @Test
    void createAcceptsQueryStringAndFormBody() throws Exception {
        String params = "contract=" + SimulatorConfig.DEMO_CONTRACT + "&email=john.doe%40example.com&target=17.0&aim=test&filename=db.dump";
        JsonNode byQuery = post("create?" + params, "", null);
        JsonNode byForm = post("create", params, "application/x-www-form-urlencoded");
        for (JsonNode answer : new JsonNode[] {byQuery, byForm}) {
            assertThat(answer.get("failures")).isEmpty();
            assertThat(answer.at("/request/id").asLong()).isPositive();
            assertThat(answer.at("/request/key").asText()).hasSizeGreaterThan(20);
            assertThat(answer.at("/request/state").asText()).isEqualTo("draft");
            assertThat(answer.at("/request/email").asText()).isEqualTo("john.doe@example.com");
        }
        assertThat(byQuery.at("/request/id").asLong()).isNotEqualTo(byForm.at("/request/id").asLong());
    }

    @Test
    void createValidatesLikeThePlatform() throws Exception {
        JsonNode missing = post("create", "contract=" + SimulatorConfig.DEMO_CONTRACT, "application/x-www-form-urlencoded");
        assertThat(missing.get("failures")).extracting(f -> f.get("value").asText())
                .containsExactlyInAnyOrder("email", "target", "aim", "filename");
        assertThat(missing.get("request")).isNull();

        JsonNode bad = post("create", "contract=M123456-abcxyz&email=a%40b.c&target=5.0&aim=fun&filename=x.dump",
                "application/x-www-form-urlencoded");
        JsonNode failures = bad.get("failures");
        assertThat(failures).extracting(f -> f.get("reason").asText())
                .containsExactly("TARGET:INVALID", "AIM:INVALID", "CONTRACT:NOT_FOUND");
        assertThat(failures.get(0).get("value").asText()).isEqualTo("5.0");
        assertThat(failures.get(0).get("expected")).extracting(JsonNode::asText).contains("16.0", "17.0");
        assertThat(failures.get(0).get("message").asText()).isEqualTo("Invalid value \"5.0\"");
        assertThat(failures.get(1).get("expected")).extracting(JsonNode::asText).containsExactly("test", "production");
        assertThat(failures.get(2).get("code").asText()).isEqualTo("M123456-abcxyz");
    }

    @Test
    void unknownRequestOrWrongKeyIsAFailureNotACrash() throws Exception {
        JsonNode created = create("x.dump");
        long id = created.at("/request/id").asLong();
        for (String q : new String[] {"request=999999&key=nope", "request=" + id + "&key=wrong", "request=abc&key=x"}) {
            JsonNode answer = post("status", q, "application/x-www-form-urlencoded");
            assertThat(answer.get("failures").get(0).get("reason").asText()).isEqualTo("REQUEST:NOT_FOUND");
        }
        assertThat(post("process", "request=" + id, "application/x-www-form-urlencoded").get("failures").get(0)
                .get("reason").asText()).isEqualTo("PARAMETER:MISSING");
    }

    @Test
    void processNeedsAnUploadThenTheRequestMovesToDoneAndServesItsArchiveWithRanges() throws Exception {
        JsonNode created = create("acme.dump");
        String auth = "request=" + created.at("/request/id").asText() + "&key="
                + URLEncoder.encode(created.at("/request/key").asText(), StandardCharsets.UTF_8);
        assertThat(post("process", auth, "application/x-www-form-urlencoded").get("failures").get(0).get("reason").asText())
                .isEqualTo("DUMP:MISSING");

        byte[] dump = "PGDMP fake custom dump".getBytes(StandardCharsets.US_ASCII);
        HttpResponse<String> upload = http.send(HttpRequest.newBuilder(URI.create(sim.apiUrl() + "/upload?" + auth))
                .header("Content-Type", "application/octet-stream").POST(HttpRequest.BodyPublishers.ofByteArray(dump)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(JSON.readTree(upload.body()).get("failures")).isEmpty();
        assertThat(post("process", auth, "application/x-www-form-urlencoded").get("failures")).isEmpty();

        JsonNode status = post("status", auth, "application/x-www-form-urlencoded").get("request");
        assertThat(status.get("state").asText()).isEqualTo("pending");
        assertThat(status.get("processed_at").isNull()).isFalse();
        await().atMost(Duration.ofSeconds(5)).until(() ->
                post("status", auth, "application/x-www-form-urlencoded").at("/request/state").asText().equals("processing"));
        await().atMost(Duration.ofSeconds(5)).until(() ->
                post("status", auth, "application/x-www-form-urlencoded").at("/request/state").asText().equals("done"));
        status = post("status", auth, "application/x-www-form-urlencoded").get("request");
        assertThat(status.get("filesize").asText()).isEqualTo("0.02 Kb");
        assertThat(status.get("elapsed").asText()).matches("\\d\\d:\\d\\d");
        String archiveUrl = status.get("upgraded_dump_url").asText();
        assertThat(archiveUrl).contains("/" + created.at("/request/key").asText() + "/upgraded/archive");

        byte[] whole = http.send(HttpRequest.newBuilder(URI.create(archiveUrl)).build(), HttpResponse.BodyHandlers.ofByteArray()).body();
        assertThat(new String(whole, StandardCharsets.ISO_8859_1)).contains("upgrade.json", "PGDMP fake custom dump");
        HttpResponse<byte[]> tail = http.send(HttpRequest.newBuilder(URI.create(archiveUrl)).header("Range", "bytes=10-").build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(tail.statusCode()).isEqualTo(206);
        assertThat(tail.headers().firstValue("Content-Range")).hasValue("bytes 10-" + (whole.length - 1) + "/" + whole.length);
        assertThat(tail.body()).isEqualTo(Arrays.copyOfRange(whole, 10, whole.length));
        assertThat(http.send(HttpRequest.newBuilder(URI.create(status.get("notes_url").asText())).build(),
                HttpResponse.BodyHandlers.ofString()).body()).contains("Upgrade notes");
    }

    @Test
    void aFailingContractEndsInStateFailedWithACustomerMessage() throws Exception {
        sim.close();
        sim = new UpgradePlatformSimulator(SimulatorConfig.defaults().failingContract("M-BAD").httpPort(0).sftpPort(0)
                .storageDir(tmp.resolve("sim2")).timings(Duration.ZERO, Duration.ofMillis(100))).start();
        JsonNode created = post("create", "contract=M-BAD&email=a%40b.c&target=17.0&aim=test&filename=x.sql",
                "application/x-www-form-urlencoded");
        String auth = "request=" + created.at("/request/id").asText() + "&key="
                + URLEncoder.encode(created.at("/request/key").asText(), StandardCharsets.UTF_8);
        http.send(HttpRequest.newBuilder(URI.create(sim.apiUrl() + "/upload?" + auth))
                .POST(HttpRequest.BodyPublishers.ofString("SET x = 1;")).build(), HttpResponse.BodyHandlers.ofString());
        post("process", auth, "application/x-www-form-urlencoded");
        await().atMost(Duration.ofSeconds(5)).until(() ->
                post("status", auth, "application/x-www-form-urlencoded").at("/request/state").asText().equals("failed"));
        assertThat(post("status", auth, "application/x-www-form-urlencoded").at("/request/customer_message").asText())
                .isNotBlank();
    }

    @Test
    void aRestartedSimulatorKnowsItsRequestsGoesOnNumberingAndFinishesARunningUpgrade() throws Exception {
        JsonNode first = create("kept.dump");
        String auth = "request=" + first.at("/request/id").asText() + "&key="
                + URLEncoder.encode(first.at("/request/key").asText(), StandardCharsets.UTF_8);
        http.send(HttpRequest.newBuilder(URI.create(sim.apiUrl() + "/upload?" + auth))
                .POST(HttpRequest.BodyPublishers.ofString("PGDMP kept across a restart")).build(), HttpResponse.BodyHandlers.ofString());
        post("process", auth, "application/x-www-form-urlencoded");
        sim.close();
        sim = new UpgradePlatformSimulator(SimulatorConfig.defaults().httpPort(0).sftpPort(0).storageDir(tmp.resolve("sim"))
                .timings(Duration.ofMillis(300), Duration.ofMillis(600))).start();

        assertThat(post("status", auth, "application/x-www-form-urlencoded").get("failures")).as("still known").isEmpty();
        await().atMost(Duration.ofSeconds(10)).until(() ->
                post("status", auth, "application/x-www-form-urlencoded").at("/request/state").asText().equals("done"));
        byte[] archive = http.send(HttpRequest.newBuilder(URI.create(post("status", auth, "application/x-www-form-urlencoded")
                .at("/request/upgraded_dump_url").asText())).build(), HttpResponse.BodyHandlers.ofByteArray()).body();
        assertThat(new String(archive, StandardCharsets.ISO_8859_1)).contains("PGDMP kept across a restart");
        assertThat(create("next.dump").at("/request/id").asLong()).as("numbering goes on")
                .isEqualTo(first.at("/request/id").asLong() + 1);
    }

    @Test
    void answersFollowTheSeedElapsedCountsFailuresCarryStringsModulesAreServed() throws Exception {
        sim.close();
        sim = new UpgradePlatformSimulator(SimulatorConfig.defaults().failingContract("M-BAD").httpPort(0).sftpPort(0)
                .storageDir(tmp.resolve("sim3")).timings(Duration.ofMillis(500), Duration.ofMillis(1700))).start();
        JsonNode created = create("count.dump");
        String auth = "request=" + created.at("/request/id").asText() + "&key="
                + URLEncoder.encode(created.at("/request/key").asText(), StandardCharsets.UTF_8);
        assertThat(created.at("/request/estimated_time").isNull()).as("no estimate before processing").isTrue();
        JsonNode missing = post("process", auth, "application/x-www-form-urlencoded").get("failures").get(0);
        assertThat(missing.get("reason").asText()).isEqualTo("DUMP:MISSING");
        assertThat(missing.get("value").isTextual()).as("value is a string, as in the documentation").isTrue();
        http.send(HttpRequest.newBuilder(URI.create(sim.apiUrl() + "/upload?" + auth))
                .POST(HttpRequest.BodyPublishers.ofString("PGDMP counting")).build(), HttpResponse.BodyHandlers.ofString());
        post("process", auth, "application/x-www-form-urlencoded");
        await().atMost(Duration.ofSeconds(10)).until(() ->
                post("status", auth, "application/x-www-form-urlencoded").at("/request/state").asText().equals("done"));
        JsonNode done = post("status", auth, "application/x-www-form-urlencoded").get("request");
        assertThat(done.get("elapsed").asText()).as("counted").isEqualTo("00:02");
        assertThat(done.get("estimated_time").asText()).isEqualTo("00:02");
        HttpResponse<byte[]> modules = http.send(HttpRequest.newBuilder(URI.create(done.get("modules_url").asText())).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(modules.statusCode()).isEqualTo(200);
        assertThat(modules.body()).startsWith(0x50, 0x4b);

        String boundary = "----nokeys";
        HttpResponse<String> noKeys = http.send(HttpRequest.newBuilder(URI.create(sim.apiUrl() + "/request_sftp_access?" + auth))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofString("--" + boundary + "--\r\n")).build(), HttpResponse.BodyHandlers.ofString());
        JsonNode f = JSON.readTree(noKeys.body()).get("failures").get(0);
        assertThat(f.get("reason").asText()).isEqualTo("PARAMETER:MISSING");
        assertThat(f.get("value").asText()).isEqualTo("ssh_keys");

        JsonNode bad = post("create", "contract=M-BAD&email=a%40b.c&target=17.0&aim=test&filename=x.sql",
                "application/x-www-form-urlencoded");
        String badAuth = "request=" + bad.at("/request/id").asText() + "&key="
                + URLEncoder.encode(bad.at("/request/key").asText(), StandardCharsets.UTF_8);
        http.send(HttpRequest.newBuilder(URI.create(sim.apiUrl() + "/upload?" + badAuth))
                .POST(HttpRequest.BodyPublishers.ofString("SET x = 1;")).build(), HttpResponse.BodyHandlers.ofString());
        post("process", badAuth, "application/x-www-form-urlencoded");
        await().atMost(Duration.ofSeconds(10)).until(() ->
                post("status", badAuth, "application/x-www-form-urlencoded").at("/request/state").asText().equals("failed"));
        JsonNode failed = post("status", badAuth, "application/x-www-form-urlencoded").get("request");
        assertThat(failed.get("upgraded_dump_url").isNull()).as("a failed upgrade offers no upgraded database").isTrue();
    }

    @Test
    void aRefusedUploadIsAnsweredAfterItsBodyIsRead() throws Exception {
        Tools.require("curl");
        byte[] big = new byte[8 * 1024 * 1024];
        Path dump = Files.write(tmp.resolve("refused.dump"), big);
        String answer = Tools.run("curl", "-sS", "-H", "Content-Type: application/octet-stream", "--data-binary", "@" + dump,
                sim.apiUrl() + "/upload?request=999999&key=nope");
        assertThat(JSON.readTree(answer).at("/failures/0/reason").asText()).isEqualTo("REQUEST:NOT_FOUND");
    }

    @Test
    void unavailabilityIsInjectedAsHtml503() throws Exception {
        sim.unavailableRate(1.0);
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(sim.apiUrl() + "/create"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
        assertThat(r.body()).contains("<html>");
    }

    @Test
    void theDocsCurlCommandsWorkButForTheHost() throws Exception {
        Tools.require("curl");
        Path dump = Files.writeString(tmp.resolve("openchs.70.cdump"), "PGDMP curl upload");
        String createUrl = sim.apiUrl() + "/create";
        String created = Tools.run("curl", "-sS", createUrl + "?contract=" + SimulatorConfig.DEMO_CONTRACT
                + "&aim=test&target=17.0&email=john.doe@example.com&filename=db_name.dump");
        JsonNode answer = JSON.readTree(created);
        String params = "key=" + answer.at("/request/key").asText() + "&request=" + answer.at("/request/id").asText();
        String uploaded = Tools.run("curl", "-H", "Content-Type: application/octet-stream", "--data-binary", "@" + dump,
                sim.apiUrl() + "/upload?" + params);
        assertThat(JSON.readTree(uploaded).get("failures")).isEmpty();
        assertThat(JSON.readTree(Tools.run("curl", "-sS", sim.apiUrl() + "/process?" + params)).get("failures")).isEmpty();
        assertThat(JSON.readTree(Tools.run("curl", "-sS", sim.apiUrl() + "/status?" + params)).at("/request/filename").asText())
                .isEqualTo("db_name.dump");
    }

    private JsonNode create(String filename) throws Exception {
        return post("create", "contract=" + SimulatorConfig.DEMO_CONTRACT + "&email=a%40b.c&target=17.0&aim=test&filename="
                + filename, "application/x-www-form-urlencoded");
    }

    private JsonNode post(String method, String body, String contentType) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(sim.apiUrl() + "/" + method))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        return JSON.readTree(r.body());
    }
}

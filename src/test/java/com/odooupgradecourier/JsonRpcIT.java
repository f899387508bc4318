package com.odooupgradecourier;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Odoo's current protocol over https (the JVM's own trust store) with the packaged service as a real process: {@code kill -9} while rsync uploads and while
 * the request is polled, then a fresh process on the same folders; one request, delivered once. Then every log line,
 * record, page and file for people is searched for the tokens the platform handed out.
 */
class JsonRpcIT {
    @TempDir
    Path tmp;

    @Test
    void killedDuringTheRsyncUploadAndDuringPollingItDeliversOnceAndNeverShowsTheToken() throws Exception {
        // over https, with the simulator's self-signed certificate trusted the JVM's own way (no code, no setting of ours)
        try (CourierHarness h = CourierHarness.jsonrpc(tmp, CourierHarness.fastSimulator().httpsPort(0))) {
            assertThat(h.rpc.apiUrl()).startsWith("https://");
            Path log = tmp.resolve("courier.log");
            java.util.Map<String, String> env = new java.util.HashMap<>(CourierProcess.env(h));
            env.put("JAVA_TOOL_OPTIONS", "-Djavax.net.ssl.trustStore=" + h.rpc.trustStore()
                    + " -Djavax.net.ssl.trustStorePassword=simulator");
            Path dump = TestDumps.customFormat(tmp.resolve("staging/big.dump"), 6 * 1024 * 1024);
            byte[] original = Files.readAllBytes(dump);
            // a slow link: the upload takes about six seconds
            h.rpc.sshServer().limitRate(1024 * 1024);
            try (CourierProcess first = CourierProcess.start(log, List.of(), env)) {
                h.dropFile(dump);
                await().atMost(Duration.ofSeconds(60)).until(() -> h.rpc.sshServer().bytesReceived() > 1024 * 1024);
                first.kill();
            }
            // its rsync does not go on alone (it would still be sending for seconds)
            await().atMost(Duration.ofSeconds(3)).until(() -> rsyncsOf(h).isEmpty());
            long atKill = h.rpc.sshServer().bytesReceived();
            assertThat(atKill).as("killed mid-upload").isLessThan(original.length);
            h.rpc.holdAt("status-processing");
            try (CourierProcess second = CourierProcess.start(log, List.of(), env)) {
                await().atMost(Duration.ofSeconds(60)).until(() -> h.rpc.heldAt("status-processing") > 0);
                second.kill();
            }
            assertThat(h.rpc.sshServer().bytesReceived()).as("the upload resumed: about the file's size in all")
                    .isLessThan(original.length + 2L * 1024 * 1024);
            h.rpc.release("status-processing");
            String page;
            String api;
            try (CourierProcess third = CourierProcess.start(log, List.of(), env)) {
                Path delivered = h.out.resolve("upgraded_big.dump.zip");
                await().atMost(Duration.ofSeconds(90)).until(() -> Files.exists(delivered));
                assertThat(HttpsFlowIT.unzip(delivered).get("upgraded.dump")).isEqualTo(original);
                await().atMost(Duration.ofSeconds(10)).until(() -> "delivered".equals(RestartIT.step(h)));
                HttpClient http = HttpClient.newHttpClient();
                page = http.send(HttpRequest.newBuilder(URI.create(h.http() + "/")).build(), HttpResponse.BodyHandlers.ofString()).body();
                api = http.send(HttpRequest.newBuilder(URI.create(h.http() + "/requests")).build(), HttpResponse.BodyHandlers.ofString()).body();
                third.terminate();
            }
            assertThat(h.rpc.calls("create")).as("one request for the dump").isEqualTo(1);
            assertThat(h.rpc.calls("process")).isEqualTo(1);
            try (Stream<Path> out = Files.list(h.out)) {
                assertThat(out.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("upgraded_big.dump.zip",
                        "upgraded_big.dump.zip.notes.html", "upgraded_big.dump.log");
            }
            assertThat(page).contains("big.dump");
            assertThat(api).contains("big.dump");

            List<String> tokens = h.rpc.tokens();
            assertThat(tokens).hasSize(1);
            List<String> texts = new ArrayList<>(List.of(page, api));
            for (Path file : filesForPeople(h, log)) {
                texts.add(Files.readString(file, StandardCharsets.ISO_8859_1));
            }
            for (String text : texts) {
                for (String token : tokens) {
                    assertThat(text).doesNotContain(token).doesNotContain(URLEncoder.encode(token, StandardCharsets.UTF_8));
                }
            }
            assertThat(Files.readString(log)).contains("big.dump: taken up again at step", "uploading", "DELIVERED");
        }
    }

    /** The rsync and ssh programs running for this test's service (their command lines name its data folder). */
    static List<ProcessHandle> rsyncsOf(CourierHarness h) {
        return ProcessHandle.allProcesses().filter(p -> p.info().commandLine().map(c -> (c.contains("rsync") || c.startsWith("ssh"))
                && !c.contains("--server") && c.contains(h.data.toString())).orElse(false)).toList();
    }

    /** The log, the error records, what was delivered, and every file under the data folder but the store itself. */
    static List<Path> filesForPeople(CourierHarness h, Path log) throws Exception {
        List<Path> files = new ArrayList<>(List.of(log));
        for (Path dir : List.of(h.failed, h.out, h.data)) {
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("courier.db"))
                        .forEach(files::add);
            }
        }
        return files;
    }
}

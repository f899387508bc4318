package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two instances on one PostgreSQL store and one lock folder, as real processes: one leads, the other stands by and
 * takes over when the leader dies (kill -9) or stops, going on from the store; nothing is created or delivered twice.
 */
class ClusterIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    @TempDir
    Path tmp;

    private Map<String, String> env(CourierHarness h, String storeUrl, int port) throws Exception {
        Map<String, String> env = new HashMap<>(CourierProcess.env(h));
        env.put("COURIER_HTTP_PORT", String.valueOf(port));
        env.put("COURIER_STORE_URL", storeUrl);
        env.put("COURIER_STORE_USER", TestPostgres.user());
        env.put("COURIER_STORE_PASSWORD", TestPostgres.password());
        env.put("COURIER_CLUSTER_LOCK_DIR", tmp.resolve("lock").toString());
        env.put("UPGRADE_SFTP_THRESHOLD", "1MB");
        return env;
    }

    @Test
    void oneLeadsAndWhenItIsKilledTheOtherDeliversWhatWasInFlightWithin30Seconds() throws Exception {
        String url = TestPostgres.freshUrl();
        try (CourierHarness h = new CourierHarness(tmp.resolve("shared"))) {
            int[] ports = {CourierHarness.freePort(), CourierHarness.freePort()};
            Path log = tmp.resolve("cluster.log");
            CourierProcess[] nodes = {CourierProcess.start(log, List.of(), env(h, url, ports[0])),
                    CourierProcess.start(log, List.of(), env(h, url, ports[1]))};
            try {
                await().atMost(Duration.ofSeconds(60)).until(() -> cluster(ports[0]) != null && cluster(ports[1]) != null
                        && cluster(ports[0]).get("leader").asBoolean() != cluster(ports[1]).get("leader").asBoolean());
                int leader = cluster(ports[0]).get("leader").asBoolean() ? 0 : 1;
                int standby = 1 - leader;
                assertThat(cluster(ports[standby]).get("node").asText()).endsWith(":" + ports[standby]);
                for (int port : ports) {
                    HttpResponse<String> health = http.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/observe/health")).build(), HttpResponse.BodyHandlers.ofString());
                    assertThat(health.statusCode()).as("health of the node on %d", port).isEqualTo(200);
                    assertThat(JSON.readTree(health.body()).get("status").asText()).isEqualTo("UP");
                }
                HttpResponse<String> page = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + ports[standby] + "/")).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(page.body()).contains(cluster(ports[standby]).get("node").asText()).contains("stands by");
                HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + ports[standby] + "/observe/metrics")).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(metrics.body()).containsPattern("(?m)^courier_cluster_leader(\\{[^}]*\\})? 0\\.0$");

                // three dumps in flight: one downloading, one being upgraded, one uploading over SFTP
                Map<String, byte[]> originals = new HashMap<>();
                h.simulator.holdAt("download-half");
                originals.put("c.dump", drop(h, "c.dump", 600_000));
                await().atMost(Duration.ofSeconds(60)).until(() -> h.simulator.heldAt("download-half") > 0);
                h.simulator.holdAt("status-processing");
                originals.put("b.dump", drop(h, "b.dump", 500_000));
                await().atMost(Duration.ofSeconds(60)).until(() -> h.simulator.heldAt("status-processing") > 0);
                h.simulator.sftpServer().holdWritesAfter(1_000_000);
                originals.put("a.dump", drop(h, "a.dump", 3_000_000));
                await().atMost(Duration.ofSeconds(60)).until(() -> h.simulator.heldAt("sftp-write") > 0);
                // the server holds one channel's writes and answers the others: what it acknowledged gets recorded
                String db = url.substring(url.lastIndexOf('/') + 1);
                await().atMost(Duration.ofSeconds(30)).until(() -> Integer.parseInt(TestPostgres.query(db,
                        "select count(*) from upload_pieces p join dumps d on d.id = p.dump_id where d.file_name = 'a.dump'")) > 0);

                nodes[leader].kill();
                long killed = System.nanoTime();
                h.simulator.releaseAll();
                await().atMost(Duration.ofSeconds(30)).until(() -> cluster(ports[standby]).get("leader").asBoolean());
                assertThat(Duration.ofNanos(System.nanoTime() - killed)).as("taken over").isLessThan(Duration.ofSeconds(30));
                for (String name : originals.keySet()) {
                    await().atMost(Duration.ofSeconds(90)).until(() -> Files.exists(h.out.resolve(TestDumps.delivered(name))));
                }
                for (Map.Entry<String, byte[]> e : originals.entrySet()) {
                    assertThat(HttpsFlowIT.unzip(h.out.resolve(TestDumps.delivered(e.getKey()))).get("dump.sql"))
                            .as(e.getKey()).isEqualTo(e.getValue());
                    assertThat(h.simulator.createdFor(e.getKey())).as("one request for %s", e.getKey()).isEqualTo(1);
                }
                assertThat(h.simulator.requestCount()).isEqualTo(3);
                // the standby sends only the pieces the leader had not recorded as acknowledged (what the server wrote
                // for the dead leader once released, from its queue, is the leader's, not sent again)
                java.util.regex.Matcher found = java.util.regex.Pattern.compile("a\\.dump: the platform acknowledged (\\d+) of 3000005 bytes")
                        .matcher(Files.readString(log));
                assertThat(found.find()).as("the standby resumed what the leader recorded").isTrue();
                long acknowledged = Long.parseLong(found.group(1));
                assertThat(acknowledged).isPositive();
                List<Long> perSession = h.simulator.sftpServer().bytesWrittenPerSession();
                assertThat(perSession.subList(1, perSession.size()).stream().mapToLong(Long::longValue).sum())
                        .as("the upload resumed, not sent twice: the standby wrote what was missing (%s)", perSession)
                        .isEqualTo(3_000_005L - acknowledged);
                assertThat(Files.readString(log)).contains("taken up again at step");
                try (var out = Files.list(h.out)) {
                    assertThat(out.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".notes.html"))).hasSize(3);
                }
            } finally {
                for (CourierProcess p : nodes) {
                    p.close();
                }
            }
        }
    }

    /**
     * Two instances with one source rehearsed every few seconds: only the leader fires it, each fire is one rehearsal and
     * one platform request; when the leader dies, the other goes on rehearsing.
     */
    @Test
    void twoInstancesRehearseEachScheduledFireOnceAndTheStandbyTakesOver() throws Exception {
        String url = TestPostgres.freshUrl();
        String live = "cluster_live_" + Long.toString(System.nanoTime(), 36);
        TestPostgres.update(TestPostgres.maintenanceDb(), "create database " + live);
        try (CourierHarness h = new CourierHarness(tmp.resolve("shared"))) {
            TestPostgres.update(live, "create table partner (id int primary key, name text); insert into partner values (1, 'a')");
            int[] ports = {CourierHarness.freePort(), CourierHarness.freePort()};
            Path log = tmp.resolve("cluster.log");
            CourierProcess[] nodes = new CourierProcess[2];
            for (int i = 0; i < 2; i++) {
                Map<String, String> env = env(h, url, ports[i]);
                env.put("COURIER_SOURCES", "acme");
                env.put("COURIER_SOURCE_ACME_URL", TestPostgres.dbUrl(live));
                env.put("COURIER_SOURCE_ACME_USER", TestPostgres.user());
                env.put("COURIER_SOURCE_ACME_PASSWORD", TestPostgres.password());
                env.put("COURIER_SOURCE_ACME_SCHEDULE", "0/4 * * * * ?");
                nodes[i] = CourierProcess.start(log, List.of(), env);
            }
            try {
                await().atMost(Duration.ofSeconds(60)).until(() -> cluster(ports[0]) != null && cluster(ports[1]) != null
                        && cluster(ports[0]).get("leader").asBoolean() != cluster(ports[1]).get("leader").asBoolean());
                int leader = cluster(ports[0]).get("leader").asBoolean() ? 0 : 1;
                String leaderNode = cluster(ports[leader]).get("node").asText();
                TestStore store = new TestStore(dataSource(url));
                await().atMost(Duration.ofSeconds(90)).until(() -> store.queryForObject(
                        "select count(*) from rehearsals where outcome = 'delivered'", Integer.class) >= 2);
                assertThat(store.queryForList("select distinct node from rehearsals", String.class)).as("only the leader rehearses")
                        .containsExactly(leaderNode);

                nodes[leader].kill();
                int standby = 1 - leader;
                String standbyNode = cluster(ports[standby]).get("node").asText();
                await().atMost(Duration.ofSeconds(90)).until(() -> store.queryForObject(
                        "select count(*) from rehearsals where outcome = 'delivered' and node = ?", Integer.class, standbyNode) >= 1);
                long rehearsalsWithADump = store.queryForObject("select count(*) from rehearsals where dump_id is not null", Long.class);
                assertThat(store.queryForObject("select count(distinct scheduled_millis) from rehearsals", Long.class))
                        .as("one rehearsal per fire").isEqualTo(store.queryForObject("select count(*) from rehearsals", Long.class));
                await().atMost(Duration.ofSeconds(30)).until(() -> (long) h.simulator.requestCount() >= rehearsalsWithADump);
                assertThat((long) h.simulator.requestCount()).as("one platform request per rehearsal")
                        .isLessThanOrEqualTo(store.queryForObject("select count(*) from rehearsals where dump_id is not null", Long.class));
            } finally {
                for (CourierProcess p : nodes) {
                    p.close();
                }
            }
        } finally {
            TestPostgres.update(TestPostgres.maintenanceDb(), "drop database if exists " + live + " with (force)");
        }
    }

    private static javax.sql.DataSource dataSource(String url) {
        org.postgresql.ds.PGSimpleDataSource ds = new org.postgresql.ds.PGSimpleDataSource();
        ds.setUrl(url);
        ds.setUser(TestPostgres.user());
        ds.setPassword(TestPostgres.password());
        return ds;
    }

    @Test
    void aGracefulStopOfTheLeaderHandsOverAtOnceAndNothingIsRedone() throws Exception {
        String url = TestPostgres.freshUrl();
        try (CourierHarness h = new CourierHarness(tmp.resolve("shared"),
                com.odooupgradecourier.simulator.SimulatorConfig.defaults().timings(Duration.ofSeconds(6), Duration.ofSeconds(2)))) {
            int[] ports = {CourierHarness.freePort(), CourierHarness.freePort()};
            Path log = tmp.resolve("cluster.log");
            CourierProcess[] nodes = {CourierProcess.start(log, List.of(), env(h, url, ports[0])),
                    CourierProcess.start(log, List.of(), env(h, url, ports[1]))};
            try {
                await().atMost(Duration.ofSeconds(60)).until(() -> cluster(ports[0]) != null && cluster(ports[1]) != null
                        && cluster(ports[0]).get("leader").asBoolean() != cluster(ports[1]).get("leader").asBoolean());
                int leader = cluster(ports[0]).get("leader").asBoolean() ? 0 : 1;
                int standby = 1 - leader;
                byte[] original = drop(h, "handed.dump", 200_000);
                await().atMost(Duration.ofSeconds(60)).until(() -> h.simulator.calls("process") == 1);
                // and an SFTP upload that is still running when the stop comes
                h.simulator.sftpServer().holdWritesAfter(1_000_000);
                byte[] uploading = drop(h, "uploading.dump", 3_000_000);
                await().atMost(Duration.ofSeconds(60)).until(() -> h.simulator.heldAt("sftp-write") > 0);

                // SIGTERM: the lead is given up first, while the running upload finishes
                nodes[leader].process().destroy();
                long stopped = System.nanoTime();
                await().atMost(Duration.ofSeconds(5)).until(() -> cluster(ports[standby]).get("leader").asBoolean());
                assertThat(Duration.ofNanos(System.nanoTime() - stopped)).isLessThan(Duration.ofSeconds(5));
                h.simulator.releaseAll();
                Path delivered = h.out.resolve(TestDumps.delivered("handed.dump"));
                await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(delivered));
                assertThat(HttpsFlowIT.unzip(delivered).get("dump.sql")).isEqualTo(original);
                Path second = h.out.resolve(TestDumps.delivered("uploading.dump"));
                await().atMost(Duration.ofSeconds(90)).until(() -> Files.exists(second));
                assertThat(HttpsFlowIT.unzip(second).get("dump.sql")).isEqualTo(uploading);
                assertThat(h.simulator.calls("create")).isEqualTo(2);
                assertThat(h.simulator.calls("upload")).as("nothing redone").isEqualTo(1);
                assertThat(h.simulator.calls("process")).isEqualTo(2);
            } finally {
                for (CourierProcess p : nodes) {
                    p.close();
                }
            }
        }
    }

    @Test
    void aSecondInstanceWithTheSameNodeIdIsRefusedWhileTheFirstRuns() throws Exception {
        String url = TestPostgres.freshUrl();
        try (CourierHarness h = new CourierHarness(tmp.resolve("twins"))) {
            Map<String, String> env = env(h, url, CourierHarness.freePort());
            env.put("COURIER_CLUSTER_NODE_ID", "twin");
            Path log = tmp.resolve("twins.log");
            try (CourierProcess first = CourierProcess.start(log, List.of(), env)) {
                int port = Integer.parseInt(env.get("COURIER_HTTP_PORT"));
                await().atMost(Duration.ofSeconds(60)).until(() -> cluster(port) != null);
                Map<String, String> twin = new HashMap<>(env);
                twin.put("COURIER_HTTP_PORT", String.valueOf(CourierHarness.freePort()));
                Process p = CourierProcess.start(tmp.resolve("twin.log"), List.of(), twin).process();
                assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
                assertThat(p.exitValue()).isNotZero();
                assertThat(Files.readString(tmp.resolve("twin.log"))).contains("another instance with the node id twin is running");
                assertThat(cluster(port).get("node").asText()).isEqualTo("twin");
            }
        }
    }

    /**
     * One live instance per node id is held in the store, where it cannot vanish with a folder: with the lock folder
     * deleted and made again, a second instance with a running one's id is still refused, and the running one goes on.
     */
    @Test
    void aNodeIdIsHeldInTheStoreSoALockFolderMadeAgainLetsNoTwinIn() throws Exception {
        String url = TestPostgres.freshUrl();
        try (CourierHarness h = new CourierHarness(tmp.resolve("twins-again"))) {
            Map<String, String> env = env(h, url, CourierHarness.freePort());
            env.put("COURIER_CLUSTER_NODE_ID", "twin");
            Path log = tmp.resolve("first.log");
            try (CourierProcess first = CourierProcess.start(log, List.of(), env)) {
                int port = Integer.parseInt(env.get("COURIER_HTTP_PORT"));
                await().atMost(Duration.ofSeconds(60)).until(() -> cluster(port) != null && cluster(port).get("leader").asBoolean());
                Path lock = tmp.resolve("lock");
                try (var walk = Files.walk(lock)) {
                    for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.delete(p);
                    }
                }
                Files.createDirectories(lock);
                Map<String, String> twin = new HashMap<>(env);
                twin.put("COURIER_HTTP_PORT", String.valueOf(CourierHarness.freePort()));
                Process p = CourierProcess.start(tmp.resolve("twin-again.log"), List.of(), twin).process();
                assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
                assertThat(p.exitValue()).isNotZero();
                assertThat(Files.readString(tmp.resolve("twin-again.log"))).contains("another instance with the node id twin is running");
                // the first goes on: nothing of its work was taken up "again" by the twin
                byte[] original = drop(h, "after-twin.dump", 2 * 1024 * 1024);
                Path delivered = h.out.resolve(TestDumps.delivered("after-twin.dump"));
                await().atMost(Duration.ofSeconds(90)).until(() -> Files.exists(delivered));
                assertThat(HttpsFlowIT.unzip(delivered).get("dump.sql")).isEqualTo(original);
                assertThat(Files.readString(log)).doesNotContain("lost its hold").doesNotContain("no longer holds it");
                assertThat(h.simulator.calls("create")).isEqualTo(1);
            }
        }
    }

    @Test
    void aLockFolderWithTheSqliteStoreIsRefusedInOneLine() throws Exception {
        try (CourierHarness h = new CourierHarness(tmp.resolve("sqlite"))) {
            Map<String, String> env = new HashMap<>(CourierProcess.env(h));
            env.put("COURIER_CLUSTER_LOCK_DIR", tmp.resolve("lock").toString());
            Path log = tmp.resolve("sqlite.log");
            Process p = CourierProcess.start(log, List.of(), env).process();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isNotZero();
            assertThat(Files.readString(log)).contains("courier.cluster.lock-dir is set, but the store is SQLite");
        }
    }

    private static byte[] drop(CourierHarness h, String name, int size) throws Exception {
        Path dump = TestDumps.customFormat(h.root.resolve("staging/" + name), size);
        byte[] bytes = Files.readAllBytes(dump);
        h.dropFile(dump);
        return bytes;
    }

    /** GET /cluster of the node on {@code port}, or null while it does not answer. */
    private JsonNode cluster(int port) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/cluster")).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
        } catch (Exception e) {
            return null;
        }
    }
}

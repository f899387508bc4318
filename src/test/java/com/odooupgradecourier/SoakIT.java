package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Twenty dumps through a platform that answers every 7th call with 503, while the service is killed with -9
 * four times at random moments: every dump is delivered byte-exact, with one request each, and no request
 * key is in any file the service wrote for people.
 */
class SoakIT {
    @TempDir
    Path tmp;

    @Test
    void twentyDumpsThroughFaultsAndFourKillsAreAllDeliveredOnce() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        try (CourierHarness h = new CourierHarness(tmp)) {
            h.simulator.unavailableEvery(7);
            Map<String, String> env = new HashMap<>(CourierProcess.env(h));
            env.put("UPGRADE_SFTP_THRESHOLD", "1MB");
            env.put("UPGRADE_RETRY_ATTEMPTS", "2");
            env.put("UPGRADE_RETRY_DELAY", "100");
            env.put("UPGRADE_RETRY_MAX_DELAY", "1000");
            Map<String, byte[]> originals = new HashMap<>();
            Path staging = Files.createDirectories(tmp.resolve("staging"));
            for (int i = 0; i < 20; i++) {
                String name = "soak-" + i + (i % 4 == 0 ? ".dump" : ".sql");
                Path dump = i % 4 == 0 ? TestDumps.customFormat(staging.resolve(name), 1_500_000 + i)
                        : TestDumps.plainSql(staging.resolve(name), 200 + i);
                originals.put(name, Files.readAllBytes(dump));
            }
            Path log = tmp.resolve("courier.log");
            List<String> names = new ArrayList<>(originals.keySet());
            int lostInTheWindow = 0;
            for (int run = 0; run < 4; run++) {
                try (CourierProcess courier = CourierProcess.start(log, List.of(), env)) {
                    for (int k = 0; k < 5; k++) {
                        h.dropFile(staging.resolve(names.get(run * 5 + k)));
                    }
                    // killed at a random moment: after a random number of further calls to the platform, but not while
                    // a request the platform created is on its way back to the store (the one window the API cannot
                    // close: it has no way to find a request again without its id and key; see README)
                    // (or once the run's dumps are all delivered, when they needed fewer calls than that)
                    int killAt = h.simulator.calls() + 5 + random.nextInt(30);
                    int deliveredBefore = run * 5;
                    int lostBefore = lostInTheWindow;
                    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> (h.simulator.calls() >= killAt || delivered(h) >= deliveredBefore + 5)
                            && storedRequests(h) + lostBefore == h.simulator.requestCount());
                    courier.kill();
                    // the wait above cannot stop a create that starts between its last look and the kill: a request the
                    // platform made while its answer was on its way is the one loss the API allows (README); counted,
                    // once the platform has finished what the dead process asked (so far in all: each dump keeps one request)
                    await().atMost(Duration.ofSeconds(10)).until(() -> h.simulator.callsInProgress() == 0);
                    lostInTheWindow = h.simulator.requestCount() - storedRequests(h);
                }
            }
            try (CourierProcess last = CourierProcess.start(log, List.of(), env)) {
                try {
                    // delivered, and released: nothing left in custody (a release a kill cut short is done by the queue once
                    // the dead instance's lease has run out)
                    await().atMost(Duration.ofSeconds(240)).until(() -> delivered(h) == 20 && inCustody(h) == 0);
                } catch (org.awaitility.core.ConditionTimeoutException e) {
                    throw new AssertionError("not all delivered and released (seed " + seed + "):\n" + undelivered(h, log, names), e);
                }
                last.terminate();
            }
            for (Map.Entry<String, byte[]> e : originals.entrySet()) {
                Path archive = h.out.resolve(TestDumps.delivered(e.getKey()));
                assertThat(HttpsFlowIT.unzip(archive).get("dump.sql")).as("%s (seed %d)", e.getKey(), seed).isEqualTo(e.getValue());
            }
            assertThat(lostInTheWindow).as("requests made in the instant of a kill (seed %d)", seed).isBetween(0, 4);
            assertThat(h.simulator.requestCount()).as("one request per dump, but for those (seed %d)", seed).isEqualTo(20 + lostInTheWindow);
            assertThat(h.failed).isEmptyDirectory();
            assertThat(Files.readString(log)).as("the kills caught dumps in flight").contains("taken up again at step");
            List<Path> files = new ArrayList<>(List.of(log));
            for (Path dir : List.of(h.out, h.data)) {
                try (Stream<Path> walk = Files.walk(dir)) {
                    walk.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("courier.db")).forEach(files::add);
                }
            }
            for (Path file : files) {
                String text = Files.readString(file, StandardCharsets.ISO_8859_1);
                for (String key : h.simulator.keys()) {
                    assertThat(text).as("%s holds a request key", file).doesNotContain(key)
                            .doesNotContain(URLEncoder.encode(key, StandardCharsets.UTF_8));
                }
            }
        }
    }

    private static int storedRequests(CourierHarness h) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + h.data.resolve("courier.db"));
             ResultSet rs = c.createStatement().executeQuery("select count(*) from dumps where request_id is not null")) {
            return rs.next() ? rs.getInt(1) : 0;
        }
    }

    /** What the store and the log say of each dump not delivered, and what lies in the drop and data folders. */
    private static String undelivered(CourierHarness h, Path log, List<String> names) throws Exception {
        StringBuilder why = new StringBuilder();
        List<String> rows = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + h.data.resolve("courier.db"));
             ResultSet rs = c.createStatement().executeQuery("select file_name, step, state, attempts, last_error, path, request_id "
                     + "from dumps where step <> 'delivered'")) {
            while (rs.next()) {
                rows.add(rs.getString(1));
                why.append("store: ").append(rs.getString(1)).append(" step=").append(rs.getString(2)).append(" state=").append(rs.getString(3))
                        .append(" attempts=").append(rs.getInt(4)).append(" request=").append(rs.getString(7)).append(" path=")
                        .append(rs.getString(6)).append(" error=").append(rs.getString(5)).append('\n');
            }
        }
        List<String> lines = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
        for (String name : names) {
            if (lines.stream().noneMatch(l -> l.contains(name + ": DELIVERED"))) {
                why.append(name).append(rows.contains(name) ? "" : " (not in the store)").append(":\n");
                lines.stream().filter(l -> l.contains(name)).forEach(l -> why.append("  ").append(l).append('\n'));
            }
        }
        for (Path dir : List.of(h.drop, h.data.resolve("dumps"))) {
            if (Files.isDirectory(dir)) {
                try (Stream<Path> walk = Files.walk(dir)) {
                    walk.filter(Files::isRegularFile).forEach(f -> why.append("file: ").append(f).append('\n'));
                }
            }
        }
        return why.toString();
    }

    private static long inCustody(CourierHarness h) throws Exception {
        Path custody = h.data.resolve("dumps");
        if (!Files.isDirectory(custody)) {
            return 0;
        }
        try (Stream<Path> walk = Files.walk(custody)) {
            return walk.filter(Files::isRegularFile).count();
        }
    }

    private static int delivered(CourierHarness h) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + h.data.resolve("courier.db"));
             ResultSet rs = c.createStatement().executeQuery("select count(*) from dumps where step = 'delivered'")) {
            return rs.next() ? rs.getInt(1) : 0;
        }
    }
}

package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PostgreSQL store goes away while dumps are in flight (a proxy in front of it drops every connection), then comes
 * back: the log says so once each way, not once per attempt; /requests answers 503 with the reason meanwhile; every dump
 * is delivered afterwards, with one request each.
 */
class StoreOutageIT {
    @TempDir
    Path tmp;

    @Test
    void aStoreThatGoesAwayIsSaidOnceWaitedForAndEveryDumpGoesOnWhenItIsBack() throws Exception {
        String url = TestPostgres.freshUrl();
        URI pg = URI.create(url.substring("jdbc:".length()));
        try (CourierHarness h = new CourierHarness(tmp); TcpProxy proxy = new TcpProxy(pg.getHost(), pg.getPort() < 0 ? 5432 : pg.getPort())) {
            Map<String, String> env = new HashMap<>(CourierProcess.env(h));
            env.put("COURIER_STORE_URL", "jdbc:postgresql://127.0.0.1:" + proxy.port() + pg.getPath());
            env.put("COURIER_STORE_USER", TestPostgres.user());
            env.put("COURIER_STORE_PASSWORD", TestPostgres.password());
            env.put("COURIER_LEASE_TIME", "4");
            Path log = tmp.resolve("courier.log");
            h.simulator.holdAt("status-processing");
            try (CourierProcess courier = CourierProcess.start(log, List.of(), env)) {
                for (String name : List.of("one", "two", "three")) {
                    h.dropFile(TestDumps.plainSql(tmp.resolve("staging/" + name + ".sql"), 10 + name.length() * 7 + name.charAt(0)));
                }
                await().atMost(Duration.ofSeconds(60)).until(() -> h.simulator.calls("process") == 3);
                long linesBefore = Files.readAllLines(log).size();
                proxy.cut();
                await().atMost(Duration.ofSeconds(30)).until(() -> Files.readString(log).contains("is not available"));
                String requests = JarIT.raw("GET", "/requests", "127.0.0.1:" + h.httpPort(), null, h.httpPort());
                assertThat(requests).startsWith("HTTP/1.1 503").contains("application/json", "\"error\"", "the store is not available");
                // the outage goes on for a while: the queue, the heartbeat and the status page all meet it
                await().pollDelay(Duration.ofSeconds(15)).atMost(Duration.ofSeconds(20)).until(() -> true);
                JarIT.raw("GET", "/", "127.0.0.1:" + h.httpPort(), null, h.httpPort());
                proxy.restore();
                h.simulator.release("status-processing");
                await().atMost(Duration.ofSeconds(30)).until(() -> Files.readString(log).contains("is back after"));
                for (String name : List.of("one", "two", "three")) {
                    await().atMost(Duration.ofSeconds(90)).until(() -> Files.exists(h.out.resolve("upgraded_" + name + ".sql.zip")));
                }
                List<String> during = Files.readAllLines(log).subList((int) linesBefore, Files.readAllLines(log).size());
                assertThat(during.stream().filter(l -> l.contains("is not available"))).as("one WARN when it goes").hasSize(1);
                assertThat(during.stream().filter(l -> l.contains("is back after"))).as("one INFO when it is back").hasSize(1);
                assertThat(during.stream().filter(l -> l.startsWith("\tat ") || l.contains("Exception:") && !l.contains(" courier ")))
                        .as("no stack traces").isEmpty();
                assertThat(during.stream().filter(l -> l.contains(" WARN ") || l.contains(" ERROR ")).count())
                        .as("a few lines, not one per attempt").isLessThan(15);
                assertThat(h.simulator.calls("create")).isEqualTo(3);
                courier.terminate();
            }
        }
    }
}

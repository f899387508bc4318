package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The service is killed ({@code kill -9} of {@code java -jar}) at each step of a dump's journey and a
 * fresh one is started on the same folders and store: the dump is delivered exactly once, and the
 * platform saw exactly one {@code create} for it.
 */
class RestartIT {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "killed at {0}")
    @ValueSource(strings = {"upload", "upload-half", "process", "status-draft", "status-processing", "download", "download-half",
            "download-end"})
    void aKilledServiceResumesWhereItStoppedAndDeliversExactlyOnce(String point) throws Exception {
        try (CourierHarness h = new CourierHarness(tmp)) {
            Path dump = TestDumps.customFormat(tmp.resolve("staging/big.dump"), 8 * 1024 * 1024);
            byte[] original = Files.readAllBytes(dump);
            Path log = tmp.resolve("courier.log");
            h.simulator.holdAt(point);
            try (CourierProcess first = CourierProcess.start(log, List.of(), CourierProcess.env(h))) {
                h.dropFile(dump);
                await().atMost(Duration.ofSeconds(60)).until(() -> h.simulator.heldAt(point) > 0);
                first.kill();
            }
            h.simulator.release(point);
            try (CourierProcess second = CourierProcess.start(log, List.of(), CourierProcess.env(h))) {
                Path delivered = h.out.resolve("upgraded_big.dump.zip");
                await().atMost(Duration.ofSeconds(90)).until(() -> Files.exists(delivered));
                assertThat(HttpsFlowIT.unzip(delivered).get("dump.sql")).isEqualTo(original);
                await().atMost(Duration.ofSeconds(10)).until(() -> "delivered".equals(step(h)));
                assertThat(h.simulator.calls("create")).as("one platform request for the dump").isEqualTo(1);
                try (Stream<Path> out = Files.list(h.out)) {
                    assertThat(out.map(p -> p.getFileName().toString()))
                            .containsExactlyInAnyOrder("upgraded_big.dump.zip", "upgraded_big.dump.zip.notes.html");
                }
                assertThat(Files.readString(log)).contains("big.dump: taken up again at step");
                second.terminate();
            }
            assertThat(h.failed).isEmptyDirectory();
        }
    }

    static String step(CourierHarness h) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + h.data.resolve("courier.db"));
             ResultSet rs = c.createStatement().executeQuery("select step from dumps")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}

package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The edges of "never lost, never twice", tried on the packaged jar as a real process. */
class EdgesIT {
    @TempDir
    Path tmp;

    /**
     * A copy into the drop folder that pauses longer than the settle time (a slow network share): the first part is taken
     * and hashed; the writer goes on into the file in custody. The change is seen before a byte is sent: the dump fails
     * with a record that says so, and its request is never processed nor delivered.
     */
    @Test
    void aCopyThatPausesLongerThanTheSettleTimeIsNeverSentNorDeliveredCutShort() throws Exception {
        try (CourierHarness h = new CourierHarness(tmp)) {
            h.simulator.holdAt("create");
            Path log = tmp.resolve("courier.log");
            try (CourierProcess courier = CourierProcess.start(log, List.of(), CourierProcess.env(h))) {
                // a custom-format dump: a plain SQL one cut short is refused by its missing last line before this
                byte[] whole = Files.readAllBytes(TestDumps.customFormat(tmp.resolve("staging/slow.dump"), 100_000));
                int half = whole.length / 2;
                try (OutputStream out = Files.newOutputStream(h.drop.resolve("slow.dump"))) {
                    out.write(whole, 0, half);
                    out.flush();
                    // taken (and hashed) with its first half only: its request is being created
                    await().atMost(Duration.ofSeconds(60)).until(() -> h.simulator.heldAt("create") == 1);
                    out.write(whole, half, whole.length - half);
                }
                h.simulator.release("create");
                Path record = h.failed.resolve("slow.dump.error.json");
                await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(record));
                String text = Files.readString(record);
                assertThat(text).contains("the file changed while it was being taken — copy it again");
                assertThat(new ObjectMapper().readTree(text).get("what_to_do").asText()).contains("copy it again");
                assertThat(h.simulator.calls("upload")).as("not a byte sent").isZero();
                assertThat(h.simulator.calls("process")).isZero();
                assertThat(h.out.resolve("upgraded_slow.dump.zip")).doesNotExist();
                assertThat(h.failed.resolve("slow.dump")).as("the dump, kept whole beside its record").hasSize(whole.length);
                courier.terminate();
            }
        }
    }

    /**
     * The SQLite store deleted while three dumps are in flight, then a restart: each dump's journal in custody names its
     * request, so each goes on with the request it had (no second create), and the new store is the owner's only.
     */
    @Test
    void aLostStoreResumesTheSameRequestsFromTheJournalsBesideTheDumps() throws Exception {
        try (CourierHarness h = new CourierHarness(tmp)) {
            h.simulator.holdAt("status");
            Path log = tmp.resolve("courier.log");
            try (CourierProcess first = CourierProcess.start(log, List.of(), CourierProcess.env(h))) {
                for (String name : List.of("one", "two", "three")) {
                    h.dropFile(TestDumps.plainSql(tmp.resolve("staging/" + name + ".sql"), 10 + name.length() * 7 + name.charAt(0)));
                }
                await().atMost(Duration.ofSeconds(60)).until(() -> h.simulator.calls("upload") == 3 && h.simulator.heldAt("status") > 0);
                first.kill();
            }
            for (String f : List.of("courier.db", "courier.db-wal", "courier.db-shm")) {
                Files.deleteIfExists(h.data.resolve(f));
            }
            h.simulator.release("status");
            try (CourierProcess second = CourierProcess.start(log, List.of(), CourierProcess.env(h))) {
                for (String name : List.of("one", "two", "three")) {
                    await().atMost(Duration.ofSeconds(90)).until(() -> Files.exists(h.out.resolve("upgraded_" + name + ".sql.zip")));
                }
                assertThat(h.simulator.calls("create")).as("the requests they had, none created again").isEqualTo(3);
                assertThat(h.simulator.requestCount()).isEqualTo(3);
                assertThat(Files.readString(log)).contains("taken up again from its journal");
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(h.data.resolve("courier.db"))))
                        .isEqualTo("rw-------");
                second.terminate();
            }
            assertThat(h.failed).isEmptyDirectory();
        }
    }
}

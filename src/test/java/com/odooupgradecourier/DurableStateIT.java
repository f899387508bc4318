package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.odooupgradecourier.simulator.SimulatorConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** One request per dump, timeouts, what happens to a dump after delivery, and the PostgreSQL store. */
class DurableStateIT extends CourierTestSupport {



    @Test
    void theSameDumpDroppedAgainWhileInFlightIsNotSentTwice() throws Exception {
        courier = new CourierHarness(tmp).start();
        courier.simulator.holdAt("status");
        Path first = TestDumps.plainSql(tmp.resolve("staging/acme.sql"), 50);
        Files.copy(first, tmp.resolve("staging/acme-copy.sql"));
        courier.dropFile(first);
        await().atMost(Duration.ofSeconds(30)).until(() -> courier.simulator.heldAt("status") > 0);

        courier.dropFile(tmp.resolve("staging/acme-copy.sql"));
        Path record = courier.failed.resolve("acme-copy.sql.error.json");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(record));
        JsonNode r = JSON.readTree(record.toFile());
        assertThat(r.get("error").asText()).contains("already in flight as acme.sql, request 10534", "not sent a second time");
        assertThat(r.get("what_to_do").asText()).contains("will be delivered");
        assertThat(courier.failed.resolve("acme-copy.sql")).exists();
        assertThat(courier.simulator.calls("create")).isEqualTo(1);

        courier.simulator.release("status");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(courier.out.resolve("upgraded_acme.sql.zip")));
        // once delivered, the same dump may be sent again: a new upgrade is a new request
        Files.copy(courier.failed.resolve("acme-copy.sql"), tmp.resolve("staging/acme-again.sql"));
        courier.dropFile(tmp.resolve("staging/acme-again.sql"));
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(courier.out.resolve("upgraded_acme-again.sql.zip")));
        assertThat(courier.simulator.calls("create")).isEqualTo(2);
    }

    /**
     * The store put back from a copy made while a dump was being upgraded, after the dump was delivered: the store says it
     * is still processing, but it left custody since. Nothing is done again (no second download, no second delivery): it
     * fails with a record that says where to look, and no retry can send it again.
     */
    @Test
    void aStorePutBackFromAnOlderCopyDoesNotDoADeliveredDumpAgain() throws Exception {
        courier = new CourierHarness(tmp).start();
        courier.simulator.holdAt("status");
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/s4.sql"), 40));
        await().atMost(Duration.ofSeconds(30)).until(() -> courier.simulator.heldAt("status") > 0);
        Path copy = tmp.resolve("courier-copy.db");
        courier.store().update("VACUUM INTO '" + copy + "'");
        courier.simulator.release("status");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(courier.out.resolve("upgraded_s4.sql.zip")));
        await().atMost(Duration.ofSeconds(30)).until(() -> "delivered".equals(courier.store().queryForObject("select step from dumps",
                String.class)));
        long downloads = courier.simulator.calls("download");
        courier.stopCourier();
        for (String f : new String[] {"courier.db", "courier.db-wal", "courier.db-shm"}) {
            Files.deleteIfExists(courier.data.resolve(f));
        }
        // the copy's node row names this very process, alive (the test restarts in one JVM): a backup put back names a
        // process long gone
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + copy)) {
            c.createStatement().execute("delete from nodes");
        }
        Files.copy(copy, courier.data.resolve("courier.db"));
        courier.start();
        JsonNode r = awaitRecord("s4.sql");
        assertThat(r.get("error").asText()).contains("no longer held", "nothing is uploaded, downloaded or delivered again");
        assertThat(r.get("what_to_do").asText()).contains("look for its upgraded archive in the output");
        assertThat(courier.simulator.calls("download")).as("not downloaded again").isEqualTo(downloads);
        try (Stream<Path> out = Files.list(courier.out)) {
            assertThat(out.filter(f -> f.getFileName().toString().endsWith(".zip")).count()).as("delivered once").isEqualTo(1);
        }
        assertThat(courier.store().queryForObject("select step from dumps", String.class)).isEqualTo("failed");
        // nothing left to move: no later look takes it for a bounce cut short and writes a record for it again
        await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(10)).until(() -> {
            try (Stream<Path> failed = Files.list(courier.failed)) {
                return failed.filter(f -> f.getFileName().toString().endsWith(".error.json")).count() == 1;
            }
        });
    }

    /**
     * A stop between a bounce's move of the dump into the failed folder and its record: the store still places the dump
     * in custody. Its record is written beside it once the service is back (the dump is found by its inode), once.
     */
    @Test
    void aStopBetweenTheMoveToTheFailedFolderAndTheRecordHasItsRecordWrittenLater() throws Exception {
        courier = new CourierHarness(tmp).start();
        courier.simulator.holdAt("create");
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/k.sql"), 30));
        await().atMost(Duration.ofSeconds(30)).until(() -> courier.simulator.heldAt("create") == 1);
        String custodyPath = courier.store().queryForObject("select path from dumps", String.class);
        // made to fail at upload: a write with its modification time set back
        java.nio.file.attribute.FileTime modified = Files.getLastModifiedTime(Path.of(custodyPath));
        Files.writeString(Path.of(custodyPath), " ", java.nio.file.StandardOpenOption.APPEND);
        Files.setLastModifiedTime(Path.of(custodyPath), modified);
        courier.simulator.release("create");
        awaitRecord("k.sql");
        courier.stopCourier();
        // as a stop after Custody.moveToFailed, before the record and the row's new path
        Files.delete(courier.failed.resolve("k.sql.error.json"));
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + courier.data.resolve("courier.db"));
             java.sql.PreparedStatement update = c.prepareStatement("update dumps set path = ?, lease_owner = null, lease_until = null")) {
            update.setString(1, custodyPath);
            assertThat(update.executeUpdate()).isEqualTo(1);
        }
        courier.start();
        JsonNode r = awaitRecord("k.sql");
        assertThat(r.get("error").asText()).contains("the file changed while it was being taken");
        await().atMost(Duration.ofSeconds(10)).until(() -> courier.failed.resolve("k.sql").toString()
                .equals(courier.store().queryForObject("select path from dumps", String.class)));
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).until(() -> {
            try (Stream<Path> failed = Files.list(courier.failed)) {
                return failed.map(f -> f.getFileName().toString()).sorted().toList().equals(java.util.List.of("k.sql", "k.sql.error.json"));
            }
        });
    }

    /**
     * A stop right after a dump was moved from the drop folder's staging area into custody, before the step that records
     * its new place: the store names the staging folder the move emptied. The dump is still held (its folder in custody),
     * so it is taken up again and delivered, never failed as a dump the store is older than (a clean-clone CI run's soak
     * test killed the service there).
     */
    @Test
    void aStopBetweenTheMoveIntoCustodyAndItsRecordIsTakenUpAgain() throws Exception {
        courier = new CourierHarness(tmp).start();
        Path staging = Files.createDirectories(tmp.resolve("staging"));
        // held at admission (a production upgrade with no test): in custody, and no request made
        Files.writeString(staging.resolve("s6.sql.properties"), "aim = production\nsource = s6\n");
        courier.dropFile(staging.resolve("s6.sql.properties"));
        courier.dropFile(TestDumps.plainSql(staging.resolve("s6.sql"), 30));
        await().atMost(Duration.ofSeconds(30)).until(() -> courier.store().queryForList("select step from dumps", String.class).contains("held"));
        String id = courier.store().queryForObject("select id from dumps", String.class);
        assertThat(Path.of(courier.store().queryForObject("select path from dumps", String.class)))
                .isEqualTo(courier.data.resolve("dumps").resolve(id).resolve("s6.sql").toAbsolutePath());
        courier.stopCourier();
        // the store as the stop left it: received, at the place in the drop folder the dump was taken from
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + courier.data.resolve("courier.db"));
             java.sql.PreparedStatement update = c.prepareStatement("update dumps set step = 'received', path = ?, last_error = null, next_attempt_at = 0, lease_owner = null, lease_until = null")) {
            update.setString(1, courier.drop.resolve(".courier").resolve(id).resolve("s6.sql").toAbsolutePath().toString());
            assertThat(update.executeUpdate()).isEqualTo(1);
        }
        courier.with("courier.production.without-test", "true").start();
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(courier.out.resolve("upgraded_s6.sql.zip")));
        assertThat(courier.simulator.calls("create")).isEqualTo(1);
        if (Files.exists(courier.failed)) {
            try (Stream<Path> failed = Files.list(courier.failed)) {
                assertThat(failed).as("nothing failed").isEmpty();
            }
        }
    }

    /**
     * A dump in custody whose journal cannot be read, the store lost: it may have a request on the platform already, so it
     * is not created again by itself; it fails with a record that says so.
     */
    @Test
    void aLostStoreAndAnUnreadableJournalNeverMakeASecondRequestByThemselves() throws Exception {
        // an upgrade that takes ten minutes: the dump waits at processing, its journal written
        courier = new CourierHarness(tmp, SimulatorConfig.defaults().timings(Duration.ofMillis(500), Duration.ofMinutes(10))).start();
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/s5.sql"), 45));
        await().atMost(Duration.ofSeconds(30)).until(() -> courier.store().queryForList("select step from dumps", String.class)
                .contains("processing"));
        courier.stopCourier();
        Path journal;
        try (Stream<Path> journals = Files.walk(courier.data.resolve("dumps"))) {
            journal = journals.filter(f -> f.getFileName().toString().equals(".journal.json")).findFirst().orElseThrow();
        }
        Files.write(journal, java.util.Arrays.copyOf(Files.readAllBytes(journal), 100));
        for (String f : new String[] {"courier.db", "courier.db-wal", "courier.db-shm"}) {
            Files.deleteIfExists(courier.data.resolve(f));
        }
        courier.start();
        JsonNode r = awaitRecord("s5.sql");
        assertThat(r.get("error").asText()).contains("its journal", "cannot be read", "may have an upgrade request on the platform");
        assertThat(courier.simulator.calls("create")).as("no second request").isEqualTo(1);
        assertThat(courier.failed.resolve("s5.sql")).as("the dump, kept").exists();
    }

    @Test
    void anyNumberOfCopiesDroppedWhileTheFirstIsInFlightMakeOneRequest() throws Exception {
        courier = new CourierHarness(tmp).start();
        courier.simulator.holdAt("status");
        Path first = TestDumps.plainSql(tmp.resolve("staging/acme.sql"), 50);
        courier.dropFile(Files.copy(first, tmp.resolve("acme.sql")));
        await().atMost(Duration.ofSeconds(30)).until(() -> courier.simulator.heldAt("status") > 0);

        for (int copy = 1; copy <= 4; copy++) {
            courier.dropFile(Files.copy(first, tmp.resolve("staging/acme-" + copy + ".sql")));
            JsonNode r = awaitRecord("acme-" + copy + ".sql");
            assertThat(r.get("error").asText()).as("copy %d", copy).contains("already in flight as acme.sql, request 10534");
        }
        assertThat(courier.simulator.calls("create")).as("one request for five copies").isEqualTo(1);
        courier.simulator.release("status");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(courier.out.resolve("upgraded_acme.sql.zip")));
        assertThat(courier.simulator.calls("create")).isEqualTo(1);
        // the archive is at the output first; then the row moves to delivered
        await().atMost(Duration.ofSeconds(10)).until(() -> courier.store()
                .queryForObject("select count(*) from dumps where step = 'delivered'", Integer.class) == 1);
        assertThat(courier.store().queryForList("select step from dumps order by file_name", String.class))
                .containsExactlyInAnyOrder("delivered", "failed", "failed", "failed", "failed");
    }

    @Test
    void aRequestRunningPastTheTimeoutIsDeadLetteredWithItsId() throws Exception {
        courier = new CourierHarness(tmp, SimulatorConfig.defaults().timings(Duration.ofMinutes(10), Duration.ofMinutes(10)))
                .with("upgrade.timeout", "2").start();
        Path dump = TestDumps.plainSql(tmp.resolve("staging/slow.sql"), 5);
        byte[] original = Files.readAllBytes(dump);
        courier.dropFile(dump);

        Path record = courier.failed.resolve("slow.sql.error.json");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(record));
        JsonNode r = JSON.readTree(record.toFile());
        assertThat(r.get("request_id").asLong()).isEqualTo(10534);
        assertThat(r.get("error").asText()).contains("still pending after upgrade.timeout (2 s)");
        assertThat(r.get("status_url").asText()).contains("/10534/***/status");
        assertThat(courier.failed.resolve("slow.sql")).hasBinaryContent(original);
    }

    @Test
    void aDeliveryCutShortBeforeItsReleaseIsReleasedByTheQueue() throws Exception {
        courier = new CourierHarness(tmp).start();
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/cut.sql"), 5));
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(courier.out.resolve("upgraded_cut.sql.zip")));
        String id = courier.store().queryForObject("select id from dumps", String.class);
        Path archived = courier.data.resolve("archive").resolve(id).resolve("cut.sql");
        await().atMost(Duration.ofSeconds(5)).until(() -> archived.toString().equals(
                courier.store().queryForObject("select path from dumps where step = 'delivered'", String.class)));
        // what a stop between the delivery and its release leaves: the dump in custody with its journal (the request's
        // key in it), the request's SSH keys on disk, the store naming the custody path
        Path custody = Files.createDirectories(courier.data.resolve("dumps").resolve(id));
        Files.move(archived, custody.resolve("cut.sql"));
        Files.writeString(custody.resolve(".journal.json"), "{\"request_key\": \"the-key\"}");
        Path keys = Files.createDirectories(courier.data.resolve("keys").resolve(id));
        Files.writeString(keys.resolve("id_ed25519"), "a private key");
        courier.store().update("update dumps set path = ? where id = ?", custody.resolve("cut.sql").toAbsolutePath().toString(), id);

        // the release archives the dump (custody's folder goes), then records where it is: both, not the first alone
        await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(custody)
                && archived.toString().equals(courier.store().queryForObject("select path from dumps", String.class)));
        assertThat(archived).exists();
        assertThat(keys).doesNotExist();
        assertThat(courier.store().queryForObject("select path from dumps", String.class)).isEqualTo(archived.toString());
    }

    @Test
    void withKeepDumpsDeleteADeliveredDumpIsDeletedOnlyAfterDelivery() throws Exception {
        courier = new CourierHarness(tmp).with("courier.keep-dumps", "delete").start();
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/gone.sql"), 5));
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(courier.out.resolve("upgraded_gone.sql.zip")));
        await().atMost(Duration.ofSeconds(5)).until(() ->
                "delivered".equals(courier.store().queryForObject("select step from dumps", String.class)));
        try (Stream<Path> left = Files.walk(courier.data.resolve("dumps"))) {
            assertThat(left.filter(Files::isRegularFile)).isEmpty();
        }
        assertThat(courier.data.resolve("archive")).doesNotExist();
    }

    @Test
    void withAPostgresqlStoreTheFlowIsRecordedThere() throws Exception {
        String url = TestPostgres.freshUrl();
        courier = new CourierHarness(tmp).with("courier.store.url", url).with("courier.store.user", TestPostgres.user())
                .with("courier.store.password", TestPostgres.password()).start();
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/pg.sql"), 5));
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(courier.out.resolve("upgraded_pg.sql.zip")));
        await().atMost(Duration.ofSeconds(5)).until(() ->
                "delivered".equals(courier.store().queryForObject("select step from dumps", String.class)));
        assertThat(courier.store().queryForObject("select request_id from dumps", Long.class)).isEqualTo(10534L);
        assertThat(courier.data.resolve("courier.db")).doesNotExist();
    }
}

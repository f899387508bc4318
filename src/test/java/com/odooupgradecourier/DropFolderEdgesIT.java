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
import org.junit.jupiter.api.Test;

/** What the drop folder takes and refuses at its edges, and an output that is not a folder for a while. */
class DropFolderEdgesIT extends CourierTestSupport {
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void aDumpCopiedInIsReadForItsHashOnceWhileItSettlesAndItsBytesSentAreCheckedAgainstThatHash() throws Exception {
        // a settle time the first look cannot miss: the dump is still settling when the drop folder first sees it
        courier = new CourierHarness(tmp).with("courier.settle-time", "3000").start().awaitLeading();
        com.odooupgradecourier.dump.SettleHashes hashes = courier.bean("settleHashes", com.odooupgradecourier.dump.SettleHashes.class);
        Path dump = TestDumps.customFormat(tmp.resolve("staging/copied.dump"), 1 << 20);
        String sha256 = com.odooupgradecourier.dump.DumpInspector.sha256(dump);
        // just copied: it settles (and is hashed meanwhile) for courier.settle-time from now, however slow the machine
        Files.setLastModifiedTime(dump, java.nio.file.attribute.FileTime.from(java.time.Instant.now()));
        courier.dropFile(dump);
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(courier.out.resolve("upgraded_copied.dump.zip")));
        // the renames into the staging area and into custody change the file's change time: the hash made while it settled
        // is provisional, not read again (1.5 s at 2 GB), and the HTTPS upload checked the bytes it sent against it
        assertThat(hashes.wholeReads()).as("whole reads of the dump for its hash").isEqualTo(1);
        assertThat(courier.store().queryForList("select sha256 || ' ' || sha256_from from dumps", String.class))
                .containsExactly(sha256 + " provisional");
    }

    @Test
    void aWriteRightAfterTheRenameNeverPassesForACopyOfADumpInFlight() throws Exception {
        // b.dump, a copy of a.dump (in flight), hashed while it settles; its user writes through the file still open right
        // after the service's rename and sets its modification time back. Its provisional hash names a.dump: it is checked
        // against the file before b.dump is refused as a copy (it was refused as one, its user told there was nothing to do)
        courier = new CourierHarness(tmp).with("courier.settle-time", "3000").start().awaitLeading();
        courier.simulator.holdAt("create");
        int size = 3 << 20;
        Path a = TestDumps.customFormat(tmp.resolve("staging/a.dump"), size);
        Files.setLastModifiedTime(a, java.nio.file.attribute.FileTime.from(java.time.Instant.now().minusSeconds(3600)));
        Path b = Files.copy(a, tmp.resolve("staging/b.dump"));
        courier.dropFile(a);
        await().atMost(Duration.ofSeconds(30)).until(() -> courier.simulator.heldAt("create") == 1);
        try (java.nio.channels.FileChannel open = java.nio.channels.FileChannel.open(b, java.nio.file.StandardOpenOption.WRITE)) {
            Path fd = openFileOf(b);
            // just copied: it settles (and is hashed meanwhile) for courier.settle-time from now
            java.nio.file.attribute.FileTime modified = java.nio.file.attribute.FileTime.from(java.time.Instant.now());
            Files.setLastModifiedTime(b, modified);
            Path dropped = courier.dropFile(b);
            await().pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(dropped));
            open.write(java.nio.ByteBuffer.wrap(new byte[] {9, 9, 9, 9, 9, 9, 9, 9}), size / 2);
            Files.setLastModifiedTime(fd, modified);
        }
        com.fasterxml.jackson.databind.JsonNode record = awaitRecord("b.dump");
        assertThat(record.get("error").asText()).doesNotContain("already in flight").contains("the file changed while it was being taken");
        assertThat(courier.bean("settleHashes", com.odooupgradecourier.dump.SettleHashes.class).wholeReads())
                .as("a.dump read when admitted; b.dump while it settled, and again before it was refused").isEqualTo(3);
    }

    /** The /proc/self/fd entry of a file this process holds open: its times can be set through it after a rename. */
    private static Path openFileOf(Path file) throws java.io.IOException {
        try (java.util.stream.Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    if (Files.readSymbolicLink(fd).equals(file.toAbsolutePath())) {
                        return fd;
                    }
                } catch (java.io.IOException closedMeanwhile) {
                    // not this one
                }
            }
        }
        throw new IllegalStateException(file + " is not open");
    }

    @Test
    void aNameWithABackslashGetsARecordUnderItsOwnNameAndNothingIsLeftBehind() throws Exception {
        courier = new CourierHarness(tmp).start();
        String name = "acme\\prod.sql";
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/" + name), 5));
        JsonNode record = awaitRecord(name);
        assertThat(record.get("error").asText()).contains("backslash", "acme_prod.sql");
        assertThat(courier.failed.resolve(name)).as("the file, under its own name").exists();
        assertThat(courier.drop.resolve(name)).doesNotExist();
        // a restart finds nothing half-taken (no empty staging folder failed as a dump of another name)
        courier.stopCourier();
        courier.start();
        await().atMost(Duration.ofSeconds(20)).until(() -> get("/observe/health").statusCode() == 200);
        assertThat(courier.store().queryForObject("select count(*) from dumps", Integer.class)).isZero();
        try (var failed = Files.list(courier.failed)) {
            assertThat(failed.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder(name, name + ".error.json");
        }
        assertThat(courier.simulator.calls("create")).isZero();
    }

    @Test
    void aRelativeLinkIsRefusedAsAnAbsoluteOneIsAndBothMoveToTheFailedFolder() throws Exception {
        courier = new CourierHarness(tmp).start();
        Path outside = TestDumps.plainSql(tmp.resolve("outside/secret.sql"), 5);
        Files.createSymbolicLink(courier.drop.resolve("relative.sql"), Path.of("../outside/secret.sql"));
        Files.createSymbolicLink(courier.drop.resolve("absolute.sql"), outside.toAbsolutePath());
        for (String link : new String[] {"relative.sql", "absolute.sql"}) {
            JsonNode record = awaitRecord(link);
            assertThat(record.get("error").asText()).as(link).contains("not a plain file (a link");
            assertThat(Files.isSymbolicLink(courier.failed.resolve(link))).as("%s moved, as the link it is", link).isTrue();
        }
        assertThat(outside).exists();
        try (var staging = Files.list(Files.createDirectories(courier.drop.resolve(".courier")))) {
            assertThat(staging).as("nothing left in the staging folder").isEmpty();
        }
    }

    /**
     * A copy that pauses longer than the settle time and goes on by opening the file again (cat >>, a resumed transfer): its
     * first part was taken as a file of its own, complete to every stamp. It is refused before a byte is sent (plain SQL
     * ends with pg_dump's last line), and so is the rest, which came as a new file: nothing is created, nothing delivered.
     */
    @Test
    void aCopyThatPausesAndGoesOnIntoANewFileSendsNothing() throws Exception {
        courier = new CourierHarness(tmp).start();
        byte[] whole = Files.readAllBytes(TestDumps.plainSql(tmp.resolve("staging/paused.sql"), 5000));
        int half = whole.length / 2;
        Files.write(courier.drop.resolve("paused.sql"), java.util.Arrays.copyOf(whole, half));
        await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(courier.drop.resolve("paused.sql")));
        Files.write(courier.drop.resolve("paused.sql"), java.util.Arrays.copyOfRange(whole, half, whole.length));
        JsonNode first = awaitRecord("paused.sql");
        assertThat(first.get("error").asText()).contains("ends before pg_dump's last line", "Nothing of it is sent");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(courier.failed.resolve("paused.sql.1.error.json")));
        assertThat(courier.simulator.calls("create")).as("no request for either part").isZero();
        assertThat(courier.out.resolve("upgraded_paused.sql.zip")).doesNotExist();
    }

    /**
     * A link to a file that is not there cannot be moved by the file consumer: it is not taken, said once (not a warning
     * and a stack trace every half second), listed by GET /drop, and leaves no folder in the staging area.
     */
    @Test
    void aLinkToNothingIsSaidOnceAndListedNotTaken() throws Exception {
        try (LogLines log = new LogLines()) {
            courier = new CourierHarness(tmp).start();
            Files.createSymbolicLink(courier.drop.resolve("dangling.sql"), Path.of("../does-not-exist.sql"));
            await().atMost(Duration.ofSeconds(20)).until(() -> JSON.readTree(get("/drop").body()).get("not_taken").toString()
                    .contains("a link to a file that is not there"));
            await().atMost(Duration.ofSeconds(10)).until(() -> !log.containing("dangling.sql: a link to a file that is not there").isEmpty());
            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(6)).until(() ->
                    log.warnings("dangling.sql").size() == 1 && log.warnings("Cannot rename").isEmpty());
            try (var staging = Files.list(Files.createDirectories(courier.drop.resolve(".courier")))) {
                assertThat(staging).as("no folder made for it in the staging folder").isEmpty();
            }
            assertThat(Files.isSymbolicLink(courier.drop.resolve("dangling.sql"))).as("left where it is").isTrue();
        }
    }

    @Test
    void filesInASubfolderAreListedAsNotTakenWithWhy() throws Exception {
        courier = new CourierHarness(tmp).start();
        TestDumps.plainSql(Files.createDirectories(courier.drop.resolve("customer-a")).resolve("acme.sql"), 5);
        HttpResponse<String> drop = get("/drop");
        assertThat(drop.statusCode()).isEqualTo(200);
        JsonNode notTaken = JSON.readTree(drop.body()).get("not_taken");
        assertThat(notTaken).hasSize(1);
        assertThat(notTaken.get(0).get("name").asText()).isEqualTo("customer-a/");
        assertThat(notTaken.get(0).get("why").asText()).contains("1 file(s)", "only files in the drop folder itself are taken");
        assertThat(get("/").body()).contains("not taken", "customer-a/");
    }

    @Test
    void anOutputThatIsAFileForAWhileMakesTheDumpWaitAndTheNameItGetsIsTheFirstFreeOne() throws Exception {
        courier = new CourierHarness(tmp).start();
        Files.delete(courier.out);
        Files.writeString(courier.out, "someone made this a file");
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/outgone.sql"), 5));
        await().atMost(Duration.ofSeconds(60)).until(() -> get("/requests").body().contains("is not a folder"));
        assertThat(get("/observe/health").body()).contains("is not a folder");
        Files.delete(courier.out);
        Files.createDirectories(courier.out);
        await().atMost(Duration.ofSeconds(120)).until(() -> Files.exists(courier.out.resolve("upgraded_outgone.sql.zip")));
        try (var out = Files.list(courier.out)) {
            assertThat(out.map(p -> p.getFileName().toString()).toList()).as("no other name was used up")
                    .contains("upgraded_outgone.sql.zip").allMatch(n -> n.startsWith("upgraded_outgone.sql.zip"));
        }
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(courier.http() + path)).build(), HttpResponse.BodyHandlers.ofString());
    }
}

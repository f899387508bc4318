package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Names users meet: the same name twice, names as long as the file system allows, folders on other file systems. */
class NamingIT extends CourierTestSupport {

    @Test
    void twoDumpsOfOneNameInSequenceAreBothDeliveredIntact() throws Exception {
        courier = new CourierHarness(tmp).start();
        Path first = TestDumps.plainSql(tmp.resolve("one/backup.sql"), 10);
        byte[] firstBytes = Files.readAllBytes(first);
        courier.dropFile(first);
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(courier.out.resolve("upgraded_backup.sql.zip.notes.html")));

        Path second = TestDumps.plainSql(tmp.resolve("two/backup.sql"), 20);
        byte[] secondBytes = Files.readAllBytes(second);
        courier.dropFile(second);
        Path later = courier.out.resolve("upgraded_backup-10535.sql.zip");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(courier.out.resolve("upgraded_backup-10535.sql.zip.notes.html")));

        assertThat(HttpsFlowIT.unzip(courier.out.resolve("upgraded_backup.sql.zip")).get("dump.sql")).isEqualTo(firstBytes);
        assertThat(HttpsFlowIT.unzip(later).get("dump.sql")).isEqualTo(secondBytes);
        assertThat(names(courier.out)).containsExactlyInAnyOrder("upgraded_backup.sql.zip", "upgraded_backup.sql.zip.notes.html",
                "upgraded_backup-10535.sql.zip", "upgraded_backup-10535.sql.zip.notes.html");
    }

    /** A file in the output with the name the notes would take: the archive and its notes take the other names, as a pair. */
    @Test
    void anArchiveAndItsNotesKeepAPairOfNamesWhenOnlyTheNotesNameIsTaken() throws Exception {
        courier = new CourierHarness(tmp).start();
        Files.createDirectories(courier.out);
        Files.writeString(courier.out.resolve("upgraded_n1.sql.zip.notes.html"), "a person's own notes");
        courier.dropFile(TestDumps.plainSql(tmp.resolve("one/n1.sql"), 10));
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(courier.out.resolve("upgraded_n1-10534.sql.zip.notes.html")));
        assertThat(names(courier.out)).containsExactlyInAnyOrder("upgraded_n1.sql.zip.notes.html", "upgraded_n1-10534.sql.zip",
                "upgraded_n1-10534.sql.zip.notes.html");
        assertThat(courier.out.resolve("upgraded_n1.sql.zip.notes.html")).hasContent("a person's own notes");
    }

    @Test
    void twoDumpsOfOneNameFailingTogetherKeepBothDumpsAndBothRecords() throws Exception {
        courier = new CourierHarness(tmp, CourierHarness.fastSimulator().failingContract("M-FAILS"))
                .with("upgrade.contract", "M-FAILS").start();
        courier.simulator.holdAt("status");
        Path first = TestDumps.plainSql(tmp.resolve("one/backup.sql"), 10);
        byte[] firstBytes = Files.readAllBytes(first);
        courier.dropFile(first);
        await().atMost(Duration.ofSeconds(30)).until(() -> courier.simulator.heldAt("status") == 1);
        Path second = TestDumps.plainSql(tmp.resolve("two/backup.sql"), 20);
        byte[] secondBytes = Files.readAllBytes(second);
        courier.dropFile(second);
        await().atMost(Duration.ofSeconds(30)).until(() -> courier.simulator.heldAt("status") == 2);
        // both upgrades fail on the platform at about the same moment
        courier.simulator.release("status");

        await().atMost(Duration.ofSeconds(30)).until(() -> courier.store()
                .queryForObject("select count(*) from dumps where step = 'failed'", Integer.class) == 2);
        // the row ends in failed first; the dump and its record follow it into the failed folder
        await().atMost(Duration.ofSeconds(30)).until(() -> names(courier.failed).size() >= 4);
        List<String> failed = names(courier.failed);
        assertThat(failed).hasSize(4).contains("backup.sql", "backup.sql.error.json");
        List<byte[]> dumps = failed.stream().filter(n -> !n.endsWith(".error.json"))
                .map(n -> read(courier.failed.resolve(n))).toList();
        assertThat(dumps).anySatisfy(d -> assertThat(d).isEqualTo(firstBytes)).anySatisfy(d -> assertThat(d).isEqualTo(secondBytes));
        for (String n : failed.stream().filter(n -> !n.endsWith(".error.json")).toList()) {
            JsonNode r = JSON.readTree(courier.failed.resolve(n + ".error.json").toFile());
            assertThat(r.get("dump_now_at").asText()).endsWith("/" + n);
        }
    }

    @Test
    void namesAsLongAsTheFileSystemAllowsAreDeliveredUnderNamesThatFit() throws Exception {
        courier = new CourierHarness(tmp).start();
        String n240 = "a".repeat(236) + ".sql";
        String n250 = "é".repeat(61) + "b".repeat(124) + ".sql";
        assertThat(n240.getBytes(StandardCharsets.UTF_8)).hasSize(240);
        assertThat(n250.getBytes(StandardCharsets.UTF_8)).hasSize(250);
        byte[] b240 = Files.readAllBytes(TestDumps.plainSql(tmp.resolve("staging/" + n240), 10));
        byte[] b250 = Files.readAllBytes(TestDumps.plainSql(tmp.resolve("staging/" + n250), 20));
        courier.dropFile(tmp.resolve("staging/" + n240));
        courier.dropFile(tmp.resolve("staging/" + n250));

        await().atMost(Duration.ofSeconds(60)).until(() -> courier.store()
                .queryForObject("select count(*) from dumps where step = 'delivered'", Integer.class) == 2);
        List<String> out = names(courier.out);
        assertThat(out).hasSize(4).allSatisfy(n -> assertThat(n.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(255));
        List<String> archives = out.stream().filter(n -> !n.endsWith(".notes.html")).toList();
        assertThat(archives).allSatisfy(n -> assertThat(n).startsWith("upgraded_").endsWith(".sql.zip"));
        List<byte[]> delivered = archives.stream().map(n -> unzipDump(courier.out.resolve(n))).toList();
        assertThat(delivered).anySatisfy(d -> assertThat(d).isEqualTo(b240)).anySatisfy(d -> assertThat(d).isEqualTo(b250));
        assertThat(names(courier.drop)).containsOnly(".courier");
    }

    @Test
    void foldersOnAnotherFileSystemLoseNothing() throws Exception {
        Path elsewhere = OtherFileSystem.folder(tmp);
        courier = new CourierHarness(tmp).with("courier.failed-dir", elsewhere.resolve("failed").toString())
                .with("courier.output-uri", "file:" + elsewhere.resolve("out")).start();
        Files.writeString(courier.drop.resolve("kept.sql.properties"), "target = 16.0\n");
        Path good = TestDumps.plainSql(tmp.resolve("staging/kept.sql"), 30);
        byte[] goodBytes = Files.readAllBytes(good);
        courier.dropFile(good);
        Files.writeString(tmp.resolve("staging/no-dump.sql"), "hello");
        courier.dropFile(tmp.resolve("staging/no-dump.sql"));

        Path delivered = elsewhere.resolve("out/upgraded_kept.sql.zip");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(delivered));
        assertThat(HttpsFlowIT.unzip(delivered).get("dump.sql")).isEqualTo(goodBytes);
        Path record = elsewhere.resolve("failed/no-dump.sql.error.json");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(record));
        assertThat(elsewhere.resolve("failed/no-dump.sql")).hasContent("hello");
        await().atMost(Duration.ofSeconds(10)).until(() -> courier.store()
                .queryForList("select step from dumps order by file_name", String.class).equals(List.of("delivered", "failed")));
        assertThat(names(elsewhere.resolve("out"))).containsExactlyInAnyOrder("upgraded_kept.sql.zip", "upgraded_kept.sql.zip.notes.html");
    }

    static List<String> names(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).toList();
        }
    }

    private static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static byte[] unzipDump(Path p) {
        try {
            return HttpsFlowIT.unzip(p).get("dump.sql");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}

package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;

/** Every kind of file a user may drop: each ends delivered or in a clear record, and is never lost. */
class BadInputIT extends CourierTestSupport {



    @Test
    void filesThatAreNoDumpAreRejectedBeforeAnythingIsSent() throws Exception {
        courier = new CourierHarness(tmp).start();
        Path staging = Files.createDirectories(tmp.resolve("staging"));
        Files.createFile(staging.resolve("empty.dump"));
        Files.writeString(staging.resolve("notes.txt"), "Dear customer,\nplease find attached our offer.\n");
        byte[] noise = new byte[10_000];
        new Random(1).nextBytes(noise);
        Files.write(staging.resolve("random.bin"), noise);
        byte[] gz = gzip("-- PostgreSQL database dump\nSET statement_timeout = 0;\n".repeat(100));
        Files.write(staging.resolve("cut.sql.gz"), java.util.Arrays.copyOf(gz, 12));
        Files.write(staging.resolve("text.gz"), gzip("just some words, not SQL at all\n".repeat(50)));
        byte[] zip = zip(Map.of("dump.sql", "SET x = 1;\n".repeat(1000)));
        Files.write(staging.resolve("cut.zip"), java.util.Arrays.copyOf(zip, zip.length / 2));
        Files.write(staging.resolve("photos.zip"), zip(Map.of("holiday.jpg", "not a database")));
        Map<String, String> expected = Map.of(
                "empty.dump", "empty file",
                "notes.txt", "not a database dump",
                "random.bin", "not a database dump",
                "cut.sql.gz", "corrupt gzip",
                "text.gz", "does not hold a SQL dump",
                "cut.zip", "corrupt zip",
                "photos.zip", "holds no dump.sql");
        for (String name : expected.keySet()) {
            courier.dropFile(staging.resolve(name));
        }
        for (Map.Entry<String, String> e : expected.entrySet()) {
            JsonNode record = awaitRecord(e.getKey());
            assertThat(record.get("step").asText()).isEqualTo("intake");
            assertThat(record.get("error").asText()).as(e.getKey()).contains(e.getValue());
            assertThat(record.get("what_to_do").asText()).isNotBlank();
            assertThat(courier.failed.resolve(e.getKey())).as("the file is kept beside its record").exists();
        }
        assertThat(awaitRecord("notes.txt").get("error").asText()).contains("PGDMP", ".sql.gz", "dump.sql");
        assertThat(courier.simulator.calls("create")).as("nothing sent to the platform").isZero();
    }

    @Test
    void everyAcceptedFormatAndAwkwardNamesGoThrough() throws Exception {
        courier = new CourierHarness(tmp).start();
        Path staging = Files.createDirectories(tmp.resolve("staging"));
        String longName = "client " + "très-long-nom-".repeat(12) + "final.sql.gz";
        Files.write(staging.resolve(longName), gzip("-- PostgreSQL database dump\nSET statement_timeout = 0;\n\n--\n"
                + "-- PostgreSQL database dump complete\n--\n"));
        Files.write(staging.resolve("odoo backup (1).zip"), zip(Map.of("dump.sql", "SET x = 1;\nCREATE TABLE a (id int);\n",
                "filestore/ab/cdef", "attachment")));
        TestDumps.customFormat(staging.resolve("société Ünïcode 数据库.dump"), 1000);
        TestDumps.plainSql(staging.resolve("plain.sql"), 10);
        for (String name : new String[] {longName, "odoo backup (1).zip", "société Ünïcode 数据库.dump", "plain.sql"}) {
            courier.dropFile(staging.resolve(name));
        }
        for (String name : new String[] {longName, "odoo backup (1).zip", "société Ünïcode 数据库.dump", "plain.sql"}) {
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(courier.out.resolve(TestDumps.delivered(name))));
        }
        assertThat(courier.simulator.createdFor("societe_Unicode_.dump")).as("a safe name for the platform").isEqualTo(1);
        assertThat(courier.store().queryForList("select platform_name from dumps", String.class))
                .allSatisfy(n -> assertThat(n).matches("[A-Za-z0-9._-]{1,100}"))
                .anySatisfy(n -> assertThat(n).endsWith(".sql.gz").hasSize(100));
    }

    @Test
    void twentyDumpsAtOnceAreAllDeliveredWithBoundedParallelTransfers() throws Exception {
        courier = new CourierHarness(tmp).with("courier.max-parallel-transfers", "3").start();
        Path staging = Files.createDirectories(tmp.resolve("staging"));
        for (int i = 0; i < 20; i++) {
            TestDumps.customFormat(staging.resolve("db" + i + ".dump"), 2 * 1024 * 1024 + i);
        }
        for (int i = 0; i < 20; i++) {
            courier.dropFile(staging.resolve("db" + i + ".dump"));
        }
        await().atMost(Duration.ofSeconds(120)).until(() ->
                courier.store().queryForObject("select count(*) from dumps where step = 'delivered'", Integer.class) == 20);
        for (int i = 0; i < 20; i++) {
            assertThat(courier.out.resolve("upgraded_db" + i + ".dump.zip")).exists();
        }
        assertThat(courier.simulator.maxConcurrentUploads()).isBetween(1, 3);
        assertThat(courier.simulator.maxConcurrentTransfers()).as("uploads and downloads share the limit").isBetween(1, 3);
        assertThat(courier.simulator.calls("create")).isEqualTo(20);
    }


    static byte[] gzip(String text) throws Exception {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(out)) {
            gz.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    static byte[] zip(Map<String, String> entries) throws Exception {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Map.Entry<String, String> e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                zip.write(e.getValue().getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
            }
        }
        return out.toByteArray();
    }
}

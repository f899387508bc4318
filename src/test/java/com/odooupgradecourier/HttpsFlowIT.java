package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;

/** The whole flow over HTTPS against the real simulator: drop → create → upload → process → poll → deliver. */
class HttpsFlowIT extends CourierTestSupport {



    @Test
    void bytesSentOverHttpsThatDoNotHashToTheDumpsSha256FailTheDump() throws Exception {
        // the check that what was sent is what was hashed: the recorded sha256 made wrong while create waits
        courier = new CourierHarness(tmp).start();
        courier.simulator.holdAt("create");
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/sent.sql"), 50));
        await().atMost(Duration.ofSeconds(30)).until(() -> courier.simulator.heldAt("create") == 1);
        courier.store().update("update dumps set sha256 = ? where file_name = 'sent.sql'", "0".repeat(64));
        courier.simulator.release("create");
        JsonNode record = awaitRecord("sent.sql");
        assertThat(record.get("step").asText()).isEqualTo("upload");
        assertThat(record.get("error").asText()).contains("the bytes sent hash to", "0".repeat(64));
        assertThat(courier.out.resolve("upgraded_sent.sql.zip")).doesNotExist();
        assertThat(courier.simulator.calls("process")).as("not asked to upgrade what was not the dump").isZero();
    }

    @Test
    void aDroppedDumpIsDeliveredUpgradedAndKept() throws Exception {
        courier = new CourierHarness(tmp).start();
        Path dump = TestDumps.plainSql(tmp.resolve("staging/acme prod.sql"), 2000);
        byte[] original = Files.readAllBytes(dump);
        courier.dropFile(dump);

        Path delivered = courier.out.resolve("upgraded_acme prod.sql.zip");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(delivered));

        Map<String, byte[]> entries = unzip(delivered);
        JsonNode manifest = JSON.readTree(entries.get("upgrade.json"));
        assertThat(manifest.get("target").asText()).isEqualTo("17.0");
        assertThat(manifest.get("source_sha256").asText()).isEqualTo(sha256(original));
        assertThat(entries.get("dump.sql")).isEqualTo(original);
        assertThat(courier.out.resolve("upgraded_acme prod.sql.zip.notes.html")).content().contains("Upgrade notes");
        try (Stream<Path> files = Files.list(courier.out)) {
            assertThat(files.map(p -> p.getFileName().toString())).as("no temporary file left in the output folder")
                    .containsExactlyInAnyOrder("upgraded_acme prod.sql.zip", "upgraded_acme prod.sql.zip.notes.html");
        }
        // the dump is not lost: out of the drop folder, archived once delivered
        await().atMost(Duration.ofSeconds(5)).until(() -> "delivered".equals(step(courier)));
        String archived = courier.store().queryForObject("select path from dumps", String.class);
        assertThat(Path.of(archived)).startsWith(courier.data.resolve("archive")).hasBinaryContent(original);
        assertThat(NamingIT.names(courier.drop)).as("nothing left in the drop folder but its hidden staging folder")
                .containsOnly(".courier");
        assertThat(courier.simulator.calls("create")).isEqualTo(1);
        assertThat(courier.simulator.createdFor("acme_prod.sql")).as("the platform got a safe file name").isEqualTo(1);
    }

    @Test
    void anInvalidTargetEndsInAnErrorRecordWithTheExpectedVersions() throws Exception {
        courier = new CourierHarness(tmp).with("upgrade.target", "5.0").start();
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/old.sql"), 10));

        JsonNode record = awaitRecord("old.sql");
        assertThat(record.get("step").asText()).isEqualTo("create");
        JsonNode failure = record.get("failures").get(0);
        assertThat(failure.get("reason").asText()).isEqualTo("TARGET:INVALID");
        assertThat(failure.get("value").asText()).isEqualTo("5.0");
        assertThat(failure.get("expected")).extracting(JsonNode::asText).contains("17.0", "18.0");
        assertThat(record.get("what_to_do").asText()).contains("expected");
        assertThat(courier.failed.resolve("old.sql")).exists().content().contains("PostgreSQL database dump");
        assertThat(courier.simulator.calls("upload")).isZero();
    }

    @Test
    void anUnknownContractIsReportedWithItsCode() throws Exception {
        courier = new CourierHarness(tmp).with("upgrade.contract", "M999999-nowhere").start();
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/client.sql"), 10));

        JsonNode record = awaitRecord("client.sql");
        JsonNode failure = record.get("failures").get(0);
        assertThat(failure.get("reason").asText()).isEqualTo("CONTRACT:NOT_FOUND");
        assertThat(failure.get("code").asText()).isEqualTo("M999999-nowhere");
        assertThat(failure.get("message").asText()).contains("M999999-nowhere");
        assertThat(courier.failed.resolve("client.sql")).exists();
    }

    @Test
    void anUpgradeThatFailsOnThePlatformKeepsTheCustomerMessage() throws Exception {
        courier = new CourierHarness(tmp,
                CourierHarness.fastSimulator().failingContract("M-FAILS"))
                .with("upgrade.contract", "M-FAILS").start();
        Path dump = TestDumps.plainSql(tmp.resolve("staging/broken.sql"), 10);
        byte[] original = Files.readAllBytes(dump);
        courier.dropFile(dump);

        JsonNode record = awaitRecord("broken.sql");
        assertThat(record.get("step").asText()).isEqualTo("status");
        assertThat(record.get("state").asText()).isEqualTo("failed");
        assertThat(record.get("customer_message").asText()).contains("legacy_report");
        assertThat(record.get("request_id").asLong()).isPositive();
        assertThat(record.get("status_url").asText()).endsWith("/***/status");
        assertThat(courier.failed.resolve("broken.sql")).hasBinaryContent(original);
        assertThat(courier.out).isEmptyDirectory();
        assertThat(step(courier)).isEqualTo("failed");
    }

    @Test
    void hiddenAndTemporaryFilesAreIgnored() throws Exception {
        courier = new CourierHarness(tmp).start();
        for (String name : List.of(".hidden.sql", "copying.sql.part", "scratch.tmp", "notes.sql~")) {
            TestDumps.plainSql(courier.drop.resolve(name), 5);
        }
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/real.sql"), 5));

        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(courier.out.resolve("upgraded_real.sql.zip")));
        try (Stream<Path> files = Files.list(courier.drop)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder(".hidden.sql", "copying.sql.part", "scratch.tmp", "notes.sql~", ".courier");
        }
        assertThat(courier.simulator.calls("create")).isEqualTo(1);
    }

    @Test
    void aFileStillBeingWrittenIsNotTakenUntilComplete() throws Exception {
        courier = new CourierHarness(tmp).with("courier.settle-time", "1500").start();
        Path growing = courier.drop.resolve("growing.sql");
        TestDumps.plainSql(tmp.resolve("staging/part.sql"), 1);
        Files.copy(tmp.resolve("staging/part.sql"), growing);
        Thread writer = new Thread(() -> {
            try {
                for (int i = 0; i < 12; i++) {
                    Files.writeString(growing, "-- more data " + i + "\n", java.nio.file.StandardOpenOption.APPEND);
                    java.util.concurrent.TimeUnit.MILLISECONDS.sleep(250);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        writer.start();
        // while the writer appends (3 s), the file stays where it is and nothing is sent
        await().during(Duration.ofMillis(2500)).atMost(Duration.ofSeconds(4))
                .until(() -> Files.exists(growing) && courier.simulator.calls("create") == 0);
        writer.join();
        long finalSize = Files.size(growing);
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(courier.out.resolve("upgraded_growing.sql.zip")));
        Map<String, byte[]> entries = unzip(courier.out.resolve("upgraded_growing.sql.zip"));
        assertThat((long) entries.get("dump.sql").length).as("the complete file was sent").isEqualTo(finalSize);
    }


    private static String step(CourierHarness c) {
        return c.store().queryForObject("select step from dumps", String.class);
    }

    static Map<String, byte[]> unzip(Path zip) throws Exception {
        Map<String, byte[]> entries = new HashMap<>();
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(zip))) {
            ZipEntry e;
            while ((e = in.getNextEntry()) != null) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                in.transferTo(out);
                entries.put(e.getName(), out.toByteArray());
            }
        }
        return entries;
    }

    static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    static String sha256(InputStream in) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) > 0) {
            md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }
}

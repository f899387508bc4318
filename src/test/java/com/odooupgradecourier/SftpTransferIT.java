package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.odooupgradecourier.transfer.SshKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** SFTP transfers against real servers: the simulator's, and a second MINA SSHD server as delivery target. */
class SftpTransferIT extends CourierTestSupport {
    private static final int SIZE = 3 * 1024 * 1024;

    private TestSftpServer target;

    @AfterEach
    void stopTarget() throws Exception {
        if (target != null) {
            target.close();
        }
    }

    @Test
    void aDumpAboveTheThresholdGoesOverSftpWithItsOwnKeyPair() throws Exception {
        courier = new CourierHarness(tmp).with("upgrade.sftp-threshold", "1MB").start();
        Path dump = TestDumps.customFormat(tmp.resolve("staging/big.dump"), SIZE);
        byte[] original = Files.readAllBytes(dump);
        courier.dropFile(dump);
        // the key pair exists while the request is in flight, readable by the owner only
        await().atMost(Duration.ofSeconds(30)).until(() -> courier.simulator.calls("request_sftp_access") > 0);
        Path key;
        try (Stream<Path> keys = Files.walk(courier.data.resolve("keys"))) {
            key = keys.filter(p -> p.getFileName().toString().equals("id_ed25519")).findFirst().orElseThrow();
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");

        Path delivered = courier.out.resolve("upgraded_big.dump.zip");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(delivered));
        assertThat(HttpsFlowIT.unzip(delivered).get("dump.sql")).isEqualTo(original);
        assertThat(courier.simulator.calls("upload")).as("not over HTTPS").isZero();
        assertThat(courier.simulator.sftpServer().bytesWritten()).isEqualTo(original.length);
        assertThat(courier.simulator.sftpServer().mostOpenAtOnce()).as("pieces written over several channels at once").isBetween(2, 4);
        assertThat(courier.store().queryForObject("select count(*) from upload_pieces", Integer.class)).as("forgotten once uploaded")
                .isZero();
        assertThat(courier.data.resolve("known_hosts")).content().startsWith("[127.0.0.1]:" + courier.simulator.sftpPort() + " ");
        await().atMost(Duration.ofSeconds(5)).until(() -> !Files.exists(key));
    }

    @Test
    void aHashMadeWhileTheDumpSettledThatTheFileDoesNotMatchFailsItBeforeAnyByteGoesOverSftp() throws Exception {
        // SFTP does not hash the pieces it sends: a provisional sha256 (made before the service's renames) is checked
        // against the file first. Made wrong while create waits, as a write right after a rename would leave it
        courier = new CourierHarness(tmp).with("upgrade.transfer", "sftp").start();
        courier.simulator.holdAt("create");
        courier.dropFile(TestDumps.customFormat(tmp.resolve("staging/moved.dump"), SIZE));
        await().atMost(Duration.ofSeconds(30)).until(() -> courier.simulator.heldAt("create") == 1);
        courier.store().update("update dumps set sha256 = ?, sha256_from = 'provisional' where file_name = 'moved.dump'", "0".repeat(64));
        courier.simulator.release("create");
        com.fasterxml.jackson.databind.JsonNode record = awaitRecord("moved.dump");
        assertThat(record.get("step").asText()).isEqualTo("upload");
        assertThat(record.get("error").asText()).contains("the file changed while it was being taken", "not to the sha256 " + "0".repeat(64));
        assertThat(courier.simulator.calls("request_sftp_access")).as("nothing sent").isZero();
        assertThat(courier.out.resolve("upgraded_moved.dump.zip")).doesNotExist();
    }

    @Test
    void aDumpRewrittenInCustodyIsNeverSentOverSftpByARetry() throws Exception {
        // moved in whole (hashed in custody), rewritten in place with the same size and its modification time set back
        // while create waits: caught at upload. A retry brings it back from the failed folder, where anyone who could
        // write there could have written it: its hash is checked against it again before SFTP sends a byte (it was sent
        // and delivered, other bytes than its sha256 says)
        courier = new CourierHarness(tmp).with("upgrade.transfer", "sftp").start();
        courier.simulator.holdAt("create");
        Path dump = TestDumps.customFormat(tmp.resolve("staging/r.dump"), SIZE);
        Files.setLastModifiedTime(dump, java.nio.file.attribute.FileTime.from(java.time.Instant.now().minusSeconds(3600)));
        courier.dropFile(dump);
        await().atMost(Duration.ofSeconds(30)).until(() -> courier.simulator.heldAt("create") == 1);
        assertThat(courier.store().queryForObject("select sha256_from from dumps", String.class)).isEqualTo("custody");
        Path inCustody = Path.of(courier.store().queryForObject("select path from dumps", String.class));
        java.nio.file.attribute.FileTime modified = Files.getLastModifiedTime(inCustody);
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(inCustody.toFile(), "rw")) {
            f.seek(SIZE / 2);
            f.write(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        }
        Files.setLastModifiedTime(inCustody, modified);
        courier.simulator.release("create");
        assertThat(awaitRecord("r.dump").get("error").asText()).contains("the file changed while it was being taken");
        String id = courier.store().queryForObject("select id from dumps", String.class);
        courier.bean("retry", com.odooupgradecourier.service.Retry.class).retry(id);
        com.fasterxml.jackson.databind.JsonNode again = awaitRecord("r.dump");
        assertThat(again.get("step").asText()).isEqualTo("upload");
        assertThat(again.get("error").asText()).contains("the file changed while it was being taken", "it hashes to");
        assertThat(courier.simulator.sftpServer().bytesWritten()).as("nothing sent").isZero();
        assertThat(courier.out.resolve("upgraded_r.dump.zip")).doesNotExist();
    }

    @Test
    void aProvisionalHashTheFileMatchesIsKeptAsCheckedAndTheDumpGoesOverSftp() throws Exception {
        courier = new CourierHarness(tmp).with("upgrade.transfer", "sftp").with("courier.settle-time", "3000").start().awaitLeading();
        Path dump = TestDumps.customFormat(tmp.resolve("staging/settled.dump"), SIZE);
        byte[] original = Files.readAllBytes(dump);
        // just copied: it settles (and is hashed meanwhile) for courier.settle-time from now, however slow the machine
        Files.setLastModifiedTime(dump, java.nio.file.attribute.FileTime.from(java.time.Instant.now()));
        courier.dropFile(dump);
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(courier.out.resolve("upgraded_settled.dump.zip")));
        assertThat(HttpsFlowIT.unzip(courier.out.resolve("upgraded_settled.dump.zip")).get("dump.sql")).isEqualTo(original);
        assertThat(courier.store().queryForObject("select sha256_from from dumps", String.class)).as("checked before it was sent")
                .isEqualTo("custody");
        assertThat(courier.bean("settleHashes", com.odooupgradecourier.dump.SettleHashes.class).wholeReads())
                .as("read while it settled, and before the SFTP upload").isEqualTo(2);
    }

    @Test
    void aBrokenUploadResumesWithTheMissingBytesOnly() throws Exception {
        try (LogLines log = new LogLines()) {
            courier = new CourierHarness(tmp).with("upgrade.transfer", "sftp").start();
            // broken half-way: the pieces the server acknowledged by then are recorded
            courier.simulator.sftpServer().dropConnectionOnceAfter(SIZE / 2);
            Path dump = TestDumps.customFormat(tmp.resolve("staging/flaky.dump"), SIZE);
            byte[] original = Files.readAllBytes(dump);
            courier.dropFile(dump);

            Path delivered = courier.out.resolve("upgraded_flaky.dump.zip");
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(delivered));
            assertThat(HttpsFlowIT.unzip(delivered).get("dump.sql")).as("the stored file is identical").isEqualTo(original);
            // the next attempt sends exactly the pieces not recorded (what was in flight when the connection broke), no more
            java.util.regex.Matcher found = java.util.regex.Pattern.compile("the platform acknowledged (\\d+) of " + original.length + " bytes")
                    .matcher(String.join("\n", log.containing("the platform acknowledged")));
            assertThat(found.find()).as("resumed after what was recorded").isTrue();
            long acknowledged = Long.parseLong(found.group(1));
            assertThat(acknowledged).isPositive();
            java.util.List<Long> perSession = courier.simulator.sftpServer().bytesWrittenPerSession();
            assertThat(perSession.subList(1, perSession.size()).stream().mapToLong(Long::longValue).sum())
                    .as("written by the attempts after the break (%s)", perSession).isEqualTo(original.length - acknowledged);
        }
    }

    @Test
    void aBrokenHttpDownloadResumesFromTheBytesOnDisk() throws Exception {
        courier = new CourierHarness(tmp).start();
        courier.simulator.breakDownloadOnceAfter(SIZE / 2);
        Path dump = TestDumps.customFormat(tmp.resolve("staging/dl.dump"), SIZE);
        byte[] original = Files.readAllBytes(dump);
        courier.dropFile(dump);

        Path delivered = courier.out.resolve("upgraded_dl.dump.zip");
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(delivered));
        assertThat(HttpsFlowIT.unzip(delivered).get("dump.sql")).isEqualTo(original);
        assertThat(courier.simulator.archiveBytesServed()).as("resumed with Range, not downloaded twice")
                .isBetween(Files.size(delivered), Files.size(delivered) * 5 / 4);
    }

    @Test
    void aBrokenSftpDownloadResumesFromTheBytesOnDisk() throws Exception {
        // large enough that what channels read ahead (a window each) is well short of the file
        int size = 32 << 20;
        courier = new CourierHarness(tmp).with("upgrade.transfer", "https").with("upgrade.download", "sftp").start();
        courier.simulator.sftpServer().dropConnectionOnceAfter(size / 2);
        Path dump = TestDumps.customFormat(tmp.resolve("staging/sdl.dump"), size);
        byte[] original = Files.readAllBytes(dump);
        courier.dropFile(dump);

        Path delivered = courier.out.resolve("upgraded_sdl.dump.zip");
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(delivered));
        assertThat(HttpsFlowIT.unzip(delivered).get("dump.sql")).isEqualTo(original);
        // the server counts what it read from disk, its answers to the reads in flight when the connection broke
        // included: each channel (8 at most) reads up to its window (2 MiB) ahead, and only that is read again
        long archive = Files.size(delivered);
        assertThat(courier.simulator.sftpServer().bytesRead()).as("resumed from the bytes on disk, not read twice")
                .isBetween(archive, archive + 8 * (2L << 20));
    }

    @Test
    void theArchiveIsDeliveredToAnSftpTargetWithStrictHostKeyChecking() throws Exception {
        target = new TestSftpServer(Files.createDirectories(tmp.resolve("target")));
        courier = new CourierHarness(tmp).with("courier.output-uri", target.uri("upgraded", target.knownHosts)).start();
        Path dump = TestDumps.plainSql(tmp.resolve("staging/remote.sql"), 100);
        byte[] original = Files.readAllBytes(dump);
        courier.dropFile(dump);

        Path delivered = target.root.resolve("upgraded/upgraded_remote.sql.zip");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(target.root.resolve("upgraded/upgraded_remote.sql.zip.notes.html")));
        assertThat(HttpsFlowIT.unzip(delivered).get("dump.sql")).isEqualTo(original);
        try (Stream<Path> files = Files.list(target.root.resolve("upgraded"))) {
            assertThat(files.map(p -> p.getFileName().toString())).as("no temporary name left")
                    .containsExactlyInAnyOrder("upgraded_remote.sql.zip", "upgraded_remote.sql.zip.notes.html");
        }
    }

    @Test
    void aWrongHostKeyIsRefusedWithAClearRecordAndTheArchiveStaysLocal() throws Exception {
        target = new TestSftpServer(Files.createDirectories(tmp.resolve("target")));
        Path wrong = Files.writeString(tmp.resolve("wrong_known_hosts"), "[127.0.0.1]:" + target.port() + " "
                + SshKeys.generate("impostor").publicKey());
        courier = new CourierHarness(tmp).with("courier.output-uri", target.uri("upgraded", wrong)).start();
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/guarded.sql"), 100));

        Path record = courier.failed.resolve("guarded.sql.error.json");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(record));
        JsonNode r = JSON.readTree(record.toFile());
        assertThat(r.get("step").asText()).isEqualTo("deliver");
        assertThat(r.get("error").asText()).containsIgnoringCase("hostkey");
        assertThat(target.root.resolve("upgraded/upgraded_guarded.sql.zip")).doesNotExist();
        try (Stream<Path> local = Files.list(courier.data.resolve("downloads"))) {
            assertThat(local.map(p -> p.getFileName().toString())).anyMatch(n -> n.endsWith(".archive"));
        }
        assertThat(r.get("archive_now_at").asText()).endsWith(".archive");
    }

    @Test
    void aRefusedSftpLoginIsFinalAndNamesTheCause() throws Exception {
        target = new TestSftpServer(Files.createDirectories(tmp.resolve("target")));
        Path stranger = Files.write(tmp.resolve("stranger_ed25519"), SshKeys.generate("stranger").privateKey());
        String uri = target.uri("upgraded", target.knownHosts).replace(target.privateKey.toString(), stranger.toString());
        courier = new CourierHarness(tmp).with("courier.output-uri", uri).start();
        courier.dropFile(TestDumps.plainSql(tmp.resolve("staging/locked.sql"), 10));

        JsonNode r = awaitRecord("locked.sql");
        assertThat(r.get("step").asText()).isEqualTo("deliver");
        assertThat(r.get("error").asText()).containsIgnoringCase("auth");
        assertThat(r.get("what_to_do").asText()).contains("SFTP server refused");
        assertThat(Path.of(r.get("archive_now_at").asText())).exists();
    }
}

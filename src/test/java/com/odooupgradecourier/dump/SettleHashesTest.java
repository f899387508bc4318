package com.odooupgradecourier.dump;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.camel.component.file.GenericFile;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettleHashesTest {
    @TempDir
    Path tmp;

    private static boolean acquire(SettleHashes lock, Path file) throws Exception {
        GenericFile<File> gf = new GenericFile<>();
        gf.setFile(file.toFile());
        return lock.acquireExclusiveReadLock(null, gf, new DefaultExchange(new DefaultCamelContext()));
    }

    @Test
    void aFileStillBeingWrittenIsTakenOnlyOnceSettledAndItsHashIsTheWholeFile() throws Exception {
        Path dump = tmp.resolve("slow.dump");
        Files.createFile(dump);
        // a slow copy: eight parts of 256 KiB, one every 150 ms
        AtomicInteger parts = new AtomicInteger();
        ScheduledExecutorService copier = Executors.newSingleThreadScheduledExecutor();
        ScheduledFuture<?> copy = copier.scheduleAtFixedRate(() -> {
            byte[] part = new byte[256 * 1024];
            part[0] = (byte) parts.get();
            try {
                Files.write(dump, part, StandardOpenOption.APPEND);
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
            if (parts.incrementAndGet() == 8) {
                throw new java.util.concurrent.CancellationException("copied"); // ends the schedule
            }
        }, 0, 150, TimeUnit.MILLISECONDS);
        try {
            SettleHashes lock = new SettleHashes(1500, 200, 30_000);
            assertThat(acquire(lock, dump)).isTrue();
            assertThat(parts).as("taken only once the copy ended").hasValue(8);
            assertThat(copy.isDone()).as("the copy ended").isTrue();
            assertThat(lock.sha256Of(dump).hex()).isEqualTo(SettleHashes.sha256(dump)).hasSize(64);
        } finally {
            copier.shutdownNow();
        }
    }

    @Test
    void theHashMadeWhileSettlingIsGivenOnceAndIsFinalOnlyForTheFileExactlyAsItWasRead() throws Exception {
        Path dump = tmp.resolve("a.dump");
        Files.write(dump, "PGDMP first content".getBytes());
        SettleHashes lock = new SettleHashes(1000, 100, 30_000);
        assertThat(acquire(lock, dump)).isTrue();
        assertThat(lock.reads).as("read once while it settled").hasValue(1);
        assertThat(lock.sha256Of(dump)).isEqualTo(new SettleHashes.Sha256(SettleHashes.sha256(dump), false));
        assertThat(lock.reads).as("admitting it did not read it again").hasValue(1);
        assertThat(lock.sha256Of(dump)).as("kept for one admission only").isEqualTo(new SettleHashes.Sha256(SettleHashes.sha256(dump), false));
        assertThat(lock.reads).hasValue(2);
    }

    @Test
    void theServicesRenamesKeepTheHashButMakeItProvisional() throws Exception {
        // Camel's rename into the staging area and the move into custody change the change time: the hash made while the
        // dump settled is given (no second read of the whole dump), as one the bytes sent must be checked against
        Path dump = tmp.resolve("a.dump");
        Files.write(dump, "PGDMP first content".getBytes());
        String settled = SettleHashes.sha256(dump);
        SettleHashes lock = new SettleHashes(1000, 100, 30_000);
        assertThat(acquire(lock, dump)).isTrue();
        Path staged = Files.createDirectories(tmp.resolve(".courier/1")).resolve("a.dump");
        Files.move(dump, staged);
        Path custody = Files.createDirectories(tmp.resolve("dumps/1")).resolve("a.dump");
        Files.move(staged, custody);
        assertThat(lock.sha256Of(custody)).isEqualTo(new SettleHashes.Sha256(settled, true));
        assertThat(lock.reads).as("read once, while it settled").hasValue(1);
        // and its check before an upload that does not hash what it sends passes, reading it
        org.apache.camel.Exchange exchange = admitted(custody, settled);
        new DumpInspector(lock).confirmSha256(exchange);
        assertThat(exchange.getProperty("sha256From")).isEqualTo("custody");
    }

    @Test
    void aWriteRightAfterTheRenameIntoStagingWithItsModificationTimeSetBackIsCaughtBeforeItIsSent() throws Exception {
        // a rename changes the change time as a write does: a user with the file open can write through it right after the
        // service's rename and set its modification time back. The hash made while it settled is given as provisional, and
        // the bytes are checked against it before they count as sent: read for SFTP and rsync, hashed as sent for HTTPS
        Path dump = tmp.resolve("a.dump");
        Files.write(dump, "PGDMP first content".getBytes());
        String settled = SettleHashes.sha256(dump);
        FileTime written = Files.getLastModifiedTime(dump);
        SettleHashes lock = new SettleHashes(1000, 100, 30_000);
        assertThat(acquire(lock, dump)).isTrue();
        Path staged = Files.createDirectories(tmp.resolve(".courier/1")).resolve("a.dump");
        Files.move(dump, staged);
        Files.write(staged, "PGDMP other content".getBytes(), StandardOpenOption.TRUNCATE_EXISTING);
        Files.setLastModifiedTime(staged, written);
        SettleHashes.Sha256 given = lock.sha256Of(staged);
        assertThat(given).isEqualTo(new SettleHashes.Sha256(settled, true));
        DumpInspector inspector = new DumpInspector(lock);
        assertThatThrownBy(() -> inspector.confirmSha256(admitted(staged, given.hex())))
                .isInstanceOf(com.odooupgradecourier.support.FileChangedException.class)
                .hasMessageContaining("it hashes to " + SettleHashes.sha256(staged));
        assertThatThrownBy(() -> inspector.checkSent(given.hex(), SettleHashes.sha256(staged)))
                .isInstanceOf(com.odooupgradecourier.support.FileChangedException.class);
    }

    @Test
    void aHashIsNeverGivenToAFileThatWasNotExactlyTheFileHashedWhenItWasTaken() throws Exception {
        // hashed while it settled, then rewritten with the same size and its modification time set back before it was
        // taken (or a file gone since whose inode another got, with the same times): the kept hash is dropped, not given
        Path dump = tmp.resolve("a.dump");
        Files.write(dump, "PGDMP first content".getBytes());
        SettleHashes lock = new SettleHashes(1000, 100, 30_000);
        assertThat(acquire(lock, dump)).isTrue();
        FileTime written = Files.getLastModifiedTime(dump);
        Files.write(dump, "PGDMP other content".getBytes(), StandardOpenOption.TRUNCATE_EXISTING);
        Files.setLastModifiedTime(dump, written);
        assertThat(acquire(lock, dump)).isTrue();
        assertThat(lock.sha256Of(dump)).isEqualTo(new SettleHashes.Sha256(SettleHashes.sha256(dump), false));
    }

    private static org.apache.camel.Exchange admitted(Path dump, String sha256) {
        org.apache.camel.Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.setProperty("dumpPath", dump.toString());
        exchange.setProperty("dumpSha256", sha256);
        exchange.setProperty("sha256From", "provisional");
        return exchange;
    }

    @Test
    void aLinkIsNeverReadWhileItSettles() throws Exception {
        // a link to an endless file: reading what it points to would hold the drop folder forever
        Path link = Files.createSymbolicLink(tmp.resolve("endless.dump"), Path.of("/dev/zero"));
        SettleHashes lock = new SettleHashes(800, 100, 30_000);
        assertThat(org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(10),
                () -> acquire(lock, link))).as("taken, to be refused when admitted").isTrue();
    }

    @Test
    void aFileMovedInWholeIsTakenAtOnce() throws Exception {
        Path dump = tmp.resolve("old.dump");
        Files.write(dump, "PGDMP".getBytes());
        Files.setLastModifiedTime(dump, FileTime.fromMillis(System.currentTimeMillis() - 60_000));
        long start = System.nanoTime();
        assertThat(acquire(new SettleHashes(5000, 1000, 30_000), dump)).isTrue();
        assertThat(System.nanoTime() - start).isLessThan(500_000_000L);
    }
}

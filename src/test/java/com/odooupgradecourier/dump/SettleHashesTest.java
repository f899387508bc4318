package com.odooupgradecourier.dump;

import static org.assertj.core.api.Assertions.assertThat;

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
            assertThat(lock.sha256Of(dump)).isEqualTo(SettleHashes.sha256(dump)).hasSize(64);
        } finally {
            copier.shutdownNow();
        }
    }

    @Test
    void theHashMadeWhileSettlingIsUsedOnlyForTheFileExactlyAsItWasRead() throws Exception {
        Path dump = tmp.resolve("a.dump");
        Files.write(dump, "PGDMP first content".getBytes());
        SettleHashes lock = new SettleHashes(1000, 100, 30_000);
        assertThat(acquire(lock, dump)).isTrue();
        assertThat(lock.reads).as("read once while it settled").hasValue(1);
        assertThat(lock.sha256Of(dump)).isEqualTo(SettleHashes.sha256(dump));
        assertThat(lock.reads).as("admitting it did not read it again").hasValue(1);
        assertThat(lock.sha256Of(dump)).as("kept for one admission only").isEqualTo(SettleHashes.sha256(dump));
        assertThat(lock.reads).hasValue(2);

        // rewritten in place with the same size and its modification time set back (touch -r): not the file read
        Files.write(dump, "PGDMP first content".getBytes());
        FileTime written = Files.getLastModifiedTime(dump);
        assertThat(acquire(lock, dump)).isTrue();
        Files.write(dump, "PGDMP other content".getBytes(), StandardOpenOption.TRUNCATE_EXISTING);
        Files.setLastModifiedTime(dump, written);
        assertThat(lock.sha256Of(dump)).as("read again: its change time moved").isEqualTo(SettleHashes.sha256(dump));
    }

    @Test
    void theHashFollowsTheFileThroughTheServicesOwnMovesButNotThroughAWriteBetweenThem() throws Exception {
        Path dump = tmp.resolve("a.dump");
        Files.write(dump, "PGDMP first content".getBytes());
        SettleHashes lock = new SettleHashes(1000, 100, 30_000);
        assertThat(acquire(lock, dump)).isTrue();
        // Camel's rename into the staging area, then the service's into custody: each changes the change time
        Path staged = Files.createDirectories(tmp.resolve(".courier/1")).resolve("a.dump");
        Thread.sleep(20);
        Files.move(dump, staged);
        lock.afterMove(staged.toString());
        Path kept = Files.createDirectories(tmp.resolve("data/1")).resolve("a.dump");
        lock.beforeMove(staged.toString());
        Thread.sleep(20);
        Files.move(staged, kept);
        lock.afterMove(kept.toString());
        assertThat(lock.sha256Of(kept)).isEqualTo(SettleHashes.sha256(kept));
        assertThat(lock.wholeReads()).as("read once, while it settled").isEqualTo(1);

        // written between the two moves, its modification time set back: the move does not carry the hash over
        Path other = tmp.resolve("b.dump");
        Files.write(other, "PGDMP first content".getBytes());
        FileTime written = Files.getLastModifiedTime(other);
        assertThat(acquire(lock, other)).isTrue();
        Path otherStaged = tmp.resolve(".courier/1/b.dump");
        Files.move(other, otherStaged);
        lock.afterMove(otherStaged.toString());
        Thread.sleep(20);
        Files.write(otherStaged, "PGDMP other content".getBytes(), StandardOpenOption.TRUNCATE_EXISTING);
        Files.setLastModifiedTime(otherStaged, written);
        lock.beforeMove(otherStaged.toString());
        Path otherKept = tmp.resolve("data/1/b.dump");
        Files.move(otherStaged, otherKept);
        lock.afterMove(otherKept.toString());
        assertThat(lock.sha256Of(otherKept)).as("read again").isEqualTo(SettleHashes.sha256(otherKept));
        assertThat(lock.wholeReads()).isEqualTo(3);
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

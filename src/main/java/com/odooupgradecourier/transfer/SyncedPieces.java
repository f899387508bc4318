package com.odooupgradecourier.transfer;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Tells each downloaded piece once its bytes are on disk, without holding up the reads: the channel writes a piece and
 * reads on, while a thread of its own syncs the file ({@code fdatasync}) and then tells the piece. A piece is never told
 * before a sync that began after its last byte was written, so a piece recorded is on disk as before; the disk's writing
 * only no longer stops the channel (a synced gigabyte took 0.6 s more than one left to the page cache here).
 */
final class SyncedPieces implements AutoCloseable {
    private final FileChannel file;
    private final ParallelSftp.PieceDone done;
    private final ExecutorService syncer;
    private final Deque<Future<?>> pending = new ArrayDeque<>();
    private final String name;
    /** A sync (or a record) failed: no piece is told after it. Only the syncer's thread reads and writes it. */
    private boolean failed;

    SyncedPieces(FileChannel file, ParallelSftp.PieceDone done, String name) {
        this.file = file;
        this.done = done;
        this.name = name;
        this.syncer = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, name + "-sync");
            t.setDaemon(true);
            return t;
        });
    }

    /** All of piece {@code p} ({start, end}) is written: it is synced and told behind the reads. Throws an earlier piece's failure. */
    void written(long[] p) throws Exception {
        while (!pending.isEmpty() && pending.peekFirst().isDone()) {
            outcome(pending.pollFirst());
        }
        pending.add(syncer.submit(() -> {
            if (failed) {
                // the sync that failed may have dropped this piece's bytes, and the next sync would not say so (Linux
                // reports a write-back error once per open file): nothing more is told, it is read again next time
                throw new IOException("not recorded: an earlier sync of " + name + " failed");
            }
            try {
                file.force(false);
                done.done(p[0], p[1]);
            } catch (Exception e) {
                failed = true;
                throw e;
            }
            return null;
        }));
    }

    /** Waits until every piece handed over is synced and told; throws the first failure. */
    void finish() throws Exception {
        while (!pending.isEmpty()) {
            outcome(pending.pollFirst());
        }
    }

    private static void outcome(Future<?> f) throws Exception {
        try {
            f.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    /**
     * After a broken transfer too, the pieces written are synced and told (so it resumes without them), within a minute;
     * after a failed sync none is. What is not told is read again at the next attempt.
     */
    @Override
    public void close() {
        syncer.shutdown();
        try {
            if (!syncer.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES)) {
                syncer.shutdownNow();
            }
        } catch (InterruptedException e) {
            syncer.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}

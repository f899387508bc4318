package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.odooupgradecourier.transfer.ParallelSftp;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The courier's SFTP client over a long link (a 100 ms round trip, nothing else limited): a transfer in many pieces
 * keeps its requests in flight from one piece to the next, and adds channels while they help.
 */
class ParallelSftpIT {
    @TempDir
    Path dir;
    TestSftpServer server;
    TcpProxy link;
    Path local;

    @BeforeEach
    void start() throws Exception {
        server = new TestSftpServer(dir.resolve("server"));
        link = new TcpProxy("127.0.0.1", server.port(), Duration.ofMillis(50));
        // the host key as the proxy's port shows it
        Files.writeString(server.knownHosts, Files.readString(server.knownHosts).replace(":" + server.port() + " ", ":" + link.port() + " "));
        local = dir.resolve("dump");
        byte[] block = new byte[1 << 20];
        Random random = new Random(25);
        try (RandomAccessFile f = new RandomAccessFile(local.toFile(), "rw")) {
            for (int i = 0; i < 24; i++) {
                random.nextBytes(block);
                f.write(block);
            }
        }
    }

    @AfterEach
    void stop() throws Exception {
        link.close();
        server.close();
    }

    private ParallelSftp connect() throws Exception {
        return ParallelSftp.connect("127.0.0.1", link.port(), server.user, server.privateKey, server.knownHosts, Duration.ofSeconds(30));
    }

    private static List<long[]> pieces(long size, long piece) {
        List<long[]> pieces = new ArrayList<>();
        for (long s = 0; s < size; s += piece) {
            pieces.add(new long[] {s, Math.min(size, s + piece)});
        }
        return pieces;
    }

    @Test
    void oneChannelStreamsManyPiecesWithoutARoundTripBetweenThem() throws Exception {
        // 96 pieces of 256 KiB: waiting for each piece's last acknowledgement (and refilling the window) took at least
        // a round trip per piece, about 10 s; one window per round trip moves 24 MiB in about 1.2 s
        List<long[]> pieces = pieces(Files.size(local), 256 * 1024);
        ConcurrentLinkedQueue<Long> done = new ConcurrentLinkedQueue<>();
        long t0 = System.nanoTime();
        long remoteSize;
        try (ParallelSftp sftp = connect()) {
            remoteSize = sftp.upload(local, "dump", true, pieces, 1, n -> { }, (s, e) -> done.add(s));
        }
        double up = (System.nanoTime() - t0) / 1e9;
        assertThat(remoteSize).isEqualTo(Files.size(local));
        assertThat(Files.mismatch(local, server.root.resolve("dump"))).isEqualTo(-1);
        assertThat(done).as("every piece told once, once acknowledged").hasSize(pieces.size()).doesNotHaveDuplicates();
        assertThat(up).as("seconds for 24 MiB in 96 pieces over one channel").isLessThan(5);

        Path back = dir.resolve("back");
        done.clear();
        t0 = System.nanoTime();
        try (ParallelSftp sftp = connect()) {
            sftp.download("dump", back, pieces, 1, n -> { }, (s, e) -> done.add(s));
        }
        double down = (System.nanoTime() - t0) / 1e9;
        assertThat(Files.mismatch(local, back)).isEqualTo(-1);
        assertThat(done).hasSize(pieces.size()).doesNotHaveDuplicates();
        assertThat(down).as("seconds for 24 MiB in 96 pieces over one channel").isLessThan(5);
    }

    @Test
    void aWriteIsAsLongAsTheServerSaysItTakes() throws Exception {
        // MINA's server, as OpenSSH's, answers limits@openssh.com (writes of 256 KiB): a write fills several SSH packets,
        // not one (32 KiB): an eighth of the requests, acknowledgements and wake-ups per byte
        try (ParallelSftp sftp = connect()) {
            sftp.upload(local, "dump", true, pieces(Files.size(local), 1 << 20), 1, n -> { }, (s, e) -> { });
        }
        assertThat(Files.mismatch(local, server.root.resolve("dump"))).isEqualTo(-1);
        assertThat(server.longestWrite()).as("bytes in the longest write").isGreaterThan(200 * 1024).isLessThanOrEqualTo(256 * 1024);
    }

    @Test
    void channelsAreAddedWhileEachFillsItsWindow() throws Exception {
        // a 300 ms round trip: 4 channels move about 27 MiB/s, far below what this machine can, so each fills its window
        Path big = dir.resolve("big");
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(96L << 20);
        }
        try (TcpProxy longer = new TcpProxy("127.0.0.1", server.port(), Duration.ofMillis(150))) {
            Files.writeString(server.knownHosts, Files.readString(server.knownHosts).replace(":" + link.port() + " ", ":" + longer.port() + " "));
            server.mostOpenAtOnce();
            try (ParallelSftp sftp = ParallelSftp.connect("127.0.0.1", longer.port(), server.user, server.privateKey, server.knownHosts,
                    Duration.ofSeconds(30))) {
                sftp.upload(big, "big", true, pieces(Files.size(big), 1 << 20), 16, n -> { }, (s, e) -> { });
            }
        }
        assertThat(Files.mismatch(big, server.root.resolve("big"))).isEqualTo(-1);
        assertThat(server.mostOpenAtOnce()).as("more than the 4 it starts with").isGreaterThan(4);
    }

    @Test
    void aWriteTheServerRefusesEndsTheUploadWithTheServersRefusalNotTheChannelClosingBehindIt() throws Exception {
        // the refusal reaches the channel's reader of acknowledgements, which closes the channel to free a writer waiting
        // for window space. A writer sending just then failed with "Closing" (a break that may pass: retried, QueueIT saw
        // it in CI) instead of what the reader found, which is final. Straight to the server, four channels, a few times
        Files.writeString(server.knownHosts, Files.readString(server.knownHosts).replace(":" + link.port() + " ", ":" + server.port() + " "));
        server.refuseWritesFrom(3L << 20);
        for (int i = 0; i < 5; i++) {
            Exception ended;
            try (ParallelSftp sftp = ParallelSftp.connect("127.0.0.1", server.port(), server.user, server.privateKey, server.knownHosts,
                    Duration.ofSeconds(30))) {
                ended = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
                        () -> sftp.upload(local, "dump", true, pieces(Files.size(local), 1 << 20), 4, n -> { }, (s, e) -> { }));
            }
            assertThat(ended).as("attempt %d", i).isInstanceOf(org.apache.sshd.sftp.common.SftpException.class);
            assertThat(((org.apache.sshd.sftp.common.SftpException) ended).getStatus())
                    .isEqualTo(org.apache.sshd.sftp.common.SftpConstants.SSH_FX_PERMISSION_DENIED);
        }
    }

    @Test
    void whatTheServerAcknowledgedIsRecordedWhileTheWriterWaitsForAServerThatStoppedTakingData() throws Exception {
        // one channel, pieces of 1 MiB; after 6 MiB the server gets nothing more but still answers for what it got, and
        // the writer waits for window space that never comes. Every piece the server has whole is recorded meanwhile
        // (the acknowledgements are read on a thread of their own, not by the writer between its writes), so an
        // instance killed then has nothing acknowledged sent again (ClusterIT kills one while the server holds a write)
        List<long[]> pieces = pieces(Files.size(local), 1 << 20);
        ConcurrentLinkedQueue<Long> done = new ConcurrentLinkedQueue<>();
        java.util.concurrent.atomic.AtomicReference<Exception> ended = new java.util.concurrent.atomic.AtomicReference<>();
        Path remote = server.root.resolve("dump");
        link.holdUpstreamAfter(6L << 20);
        try (ParallelSftp sftp = connect()) {
            Thread upload = new Thread(() -> {
                try {
                    sftp.upload(local, "dump", true, pieces, 1, n -> { }, (s, e) -> done.add(s));
                } catch (Exception e) {
                    ended.set(e);
                }
            });
            upload.start();
            await().atMost(Duration.ofSeconds(30)).during(Duration.ofSeconds(1)).until(() -> Files.exists(remote)
                    && Files.size(remote) >= (4L << 20) && done.size() == Files.size(remote) >> 20);
            link.cut();
            upload.join(30_000);
            assertThat(upload.isAlive()).isFalse();
        }
        assertThat(ended.get()).as("the transfer broke").isNotNull();
        assertThat(done).doesNotHaveDuplicates();
        for (long start : done) {
            byte[] mine = new byte[1 << 20];
            byte[] theirs = new byte[1 << 20];
            try (RandomAccessFile a = new RandomAccessFile(local.toFile(), "r"); RandomAccessFile b = new RandomAccessFile(remote.toFile(), "r")) {
                a.seek(start);
                a.readFully(mine);
                b.seek(start);
                b.readFully(theirs);
            }
            assertThat(theirs).as("the piece at %d, recorded, is on the server", start).isEqualTo(mine);
        }
    }

    @Test
    void aResumedTransferWithHolesMovesOnlyTheMissingPieces() throws Exception {
        List<long[]> all = pieces(Files.size(local), 1 << 20);
        try (ParallelSftp sftp = connect()) {
            sftp.upload(local, "dump", true, all.subList(0, 5), 4, n -> { }, (s, e) -> { });
        }
        List<long[]> missing = new ArrayList<>(all.subList(5, all.size()));
        ConcurrentLinkedQueue<Long> done = new ConcurrentLinkedQueue<>();
        try (ParallelSftp sftp = connect()) {
            assertThat(sftp.upload(local, "dump", false, missing, 4, n -> { }, (s, e) -> done.add(s))).isEqualTo(Files.size(local));
        }
        assertThat(done).hasSize(missing.size());
        assertThat(Files.mismatch(local, server.root.resolve("dump"))).isEqualTo(-1);
    }
}

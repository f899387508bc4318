package com.odooupgradecourier.transfer;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.LongConsumer;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.core.CoreModuleProperties;
import org.apache.sshd.sftp.client.SftpClient.CloseableHandle;
import org.apache.sshd.sftp.client.SftpMessage;
import org.apache.sshd.sftp.client.impl.AbstractSftpClient;
import org.apache.sshd.sftp.client.impl.SftpResponse;
import org.apache.sshd.sftp.client.impl.SftpStatus;
import org.apache.sshd.sftp.common.SftpConstants;
import org.apache.sshd.sftp.common.SftpException;

/**
 * One SFTP channel's writes of a file, piece after piece, with requests in flight from one piece to the next: the
 * writing thread only sends, and a reader of its own takes the server's acknowledgements as they come and tells each
 * piece once the last of its writes is acknowledged. So what the server acknowledged is recorded even while the
 * writing thread waits (for window space from a server that stopped taking data, say): a transfer that breaks then,
 * or an instance killed then, leaves every acknowledged piece recorded, and only what was in flight is sent again.
 *
 * <p>Each request fills whole SSH packets and is sent as it is built (a 32 KiB write with its header did not fit the
 * 32 KiB packets OpenSSH's sshd grants, so it was copied and sent as two): one packet, or several when the server says
 * it takes writes that long ({@link SftpLimits}). The first failure (a write refused, no
 * acknowledgement within the session's idle timeout, the channel lost) ends the pipeline and is thrown to the writer.
 */
final class WritePipeline implements AutoCloseable {
    /** A write on its way, and the piece it ends (or null). */
    private record Sent(int id, long offset, long[] piece) {
    }

    private static final Sent END = new Sent(-1, 0, null);
    private static final Duration READER_GRACE = Duration.ofSeconds(2);

    private final AbstractSftpClient client;
    private final byte[] handle;
    private final ParallelSftp.PieceDone done;
    /** Where a request's file data starts in its buffer: SSH packet header, channel data header, SFTP write header. */
    private final int dataStart;
    /** The end of a request's data in its buffer (the SSH packet's room). */
    private final int dataEnd;
    private final Buffer[] buffers = new Buffer[2];
    private final BlockingQueue<Sent> sent = new LinkedBlockingQueue<>();
    private final Thread reader;
    private volatile Exception failure;
    private int next;
    /** Writes sent (by the writer) and acknowledged (by the reader); guarded by this. */
    private long sentCount;
    private long acknowledgedCount;

    WritePipeline(AbstractSftpClient client, CloseableHandle handle, SftpLimits limits, ParallelSftp.PieceDone done, String name) {
        this.client = client;
        this.handle = handle.getIdentifier();
        this.done = done;
        // SFTP write: length, type, request id (9), the handle (4 + its bytes), offset (8), data length (4)
        int preamble = 9 + 4 + this.handle.length + 8 + 4;
        // channel data: message type, recipient channel, data length (9), all within the packet size the server grants
        int packet = (int) client.getChannel().getRemoteWindow().getPacketSize();
        this.dataStart = SshConstants.SSH_PACKET_HEADER_LEN + 9 + preamble;
        this.dataEnd = dataStart + limits.writeLength(packet, preamble);
        Duration wait = CoreModuleProperties.IDLE_TIMEOUT.getRequired(client.getClientSession());
        this.reader = new Thread(() -> acknowledgements(wait), name + "-acks");
        reader.setDaemon(true);
        reader.start();
    }

    /** Sends piece {@code p} ({start, end}) of {@code in} to the same offsets; {@code counted} is told of every request sent. */
    void write(FileChannel in, Path local, long[] p, LongConsumer counted) throws IOException {
        long at = p[0];
        while (at < p[1]) {
            failed();
            Buffer buf = buffer();
            int room = dataEnd - dataStart;
            int n = 0;
            int want = (int) Math.min(room, p[1] - at);
            while (n < want) {
                int r = in.read(ByteBuffer.wrap(buf.array(), dataStart + n, want - n), at + n);
                if (r < 0) {
                    throw new IOException(local + " is shorter than " + p[1] + " bytes: it changed while being sent");
                }
                n += r;
            }
            buf.rpos(dataStart - 16 - handle.length);
            buf.wpos(buf.rpos());
            buf.putBytes(handle);
            buf.putLong(at);
            buf.putUInt(n);
            buf.wpos(dataStart + n);
            // the client waits until the request before is on its way, so the buffer used the time before is free again
            SftpMessage m;
            try {
                m = client.write(SftpConstants.SSH_FXP_WRITE, buf);
            } catch (IOException e) {
                throw readersCause(e);
            }
            at += n;
            synchronized (this) {
                sentCount++;
            }
            sent.add(new Sent(m.getId(), at - n, at == p[1] ? p : null));
            counted.accept(n);
        }
    }

    /** Waits until every write sent so far was acknowledged (and its piece told); throws the first failure. */
    void drain() throws IOException, InterruptedException {
        awaitAcknowledged(null);
        failed();
    }

    /**
     * Waits until every write sent so far was acknowledged, the reader failed or ended, or {@code atMost} passed (null:
     * no bound).
     */
    private synchronized void awaitAcknowledged(Duration atMost) throws InterruptedException {
        long until = atMost == null ? 0 : System.nanoTime() + atMost.toNanos();
        while (acknowledgedCount < sentCount && failure == null && reader.isAlive()) {
            long left = atMost == null ? 1_000 : (until - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return;
            }
            wait(Math.min(1_000, left));
        }
    }

    /** Waits until every write sent was acknowledged (and its piece told), then ends the reader; throws the first failure. */
    void finish() throws IOException, InterruptedException {
        sent.add(END);
        reader.join();
        failed();
    }

    /**
     * What to throw when sending failed: the reader closes the channel when the server refuses a write, so the writer's
     * "channel closing" is only the echo of the reader's failure ("Permission denied" stays final, not a break that may
     * pass). A reader that has not ended yet is given a moment to tell the answers that came before the channel went.
     */
    private IOException readersCause(IOException sending) {
        try {
            awaitAcknowledged(READER_GRACE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            failed();
        } catch (IOException first) {
            first.addSuppressed(sending);
            return first;
        }
        return sending;
    }

    private void failed() throws IOException {
        Exception f = failure;
        if (f instanceof IOException io) {
            throw io;
        }
        if (f != null) {
            throw new IOException(f.getMessage(), f);
        }
    }

    private Buffer buffer() {
        Buffer b = buffers[next];
        if (b == null) {
            b = client.getSession().createBuffer(SshConstants.SSH_MSG_CHANNEL_DATA, dataEnd);
            buffers[next] = b;
        }
        next ^= 1;
        return b;
    }

    /** The reader: acknowledgements in the order the writes went, a piece told when its last write is acknowledged. */
    private void acknowledgements(Duration wait) {
        try {
            for (Sent s = sent.take(); s != END; s = sent.take()) {
                Buffer buf = client.receive(s.id(), wait);
                if (buf == null) {
                    throw new IOException("no acknowledgement of the write at byte " + s.offset() + " within " + wait);
                }
                SftpResponse answer = SftpResponse.parse(SftpConstants.SSH_FXP_WRITE, buf);
                if (answer.getType() != SftpConstants.SSH_FXP_STATUS) {
                    throw new SftpException(SftpConstants.SSH_FX_BAD_MESSAGE, "the SFTP server answered the write at byte "
                            + s.offset() + " with " + SftpConstants.getCommandMessageName(answer.getType()) + ", not a status");
                }
                SftpStatus status = SftpStatus.parse(answer);
                if (!status.isOk()) {
                    // the server's own words, as MINA's streams report them: "Permission denied" is final, not a break
                    throw new SftpException(status.getStatusCode(), status.getMessage());
                }
                if (s.piece() != null) {
                    done.done(s.piece()[0], s.piece()[1]);
                }
                synchronized (this) {
                    acknowledgedCount++;
                    notifyAll();
                }
            }
        } catch (InterruptedException e) {
            synchronized (this) {
                failure = new InterruptedIOException("stopped waiting for acknowledgements");
                notifyAll();
            }
        } catch (Exception e) {
            synchronized (this) {
                failure = e;
                notifyAll();
            }
            // a writer waiting for window space the server will not give is freed by closing the channel
            try {
                client.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    /** Stops the reader if the writer gave up early; what was acknowledged until then was told. */
    @Override
    public void close() throws InterruptedException {
        if (reader.isAlive()) {
            reader.interrupt();
            reader.join();
        }
    }
}

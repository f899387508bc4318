package com.odooupgradecourier.restore;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A plain SQL dump as psql reads it here: behind psql's own {@code \restrict} with a key of this restore, so no
 * backslash command the archive may hold runs ({@code \connect} to another database, {@code \!} a shell command,
 * {@code \copy … program}); only SQL.
 *
 * <p>pg_dump (the releases of August 2025 on) writes a {@code \restrict KEY} line of its own in the dump's header, before
 * any statement, and {@code unrestrict KEY} with the same key at its end; under this restore's restriction they would
 * stop psql, so these two are left out, and nothing else: the header's line only where pg_dump writes it (nothing but
 * comments and empty lines before it), the end's only with the header's key. No other line is looked at, so no row of
 * a table is ever left out, whatever its COPY data looks like (a value that begins with a carriage return and "estrict"
 * is written {@code \restrict …} in a COPY line). A {@code \restrict} or {@code unrestrict} anywhere else reaches psql,
 * which refuses it and stops the restore. Streamed: only the first bytes of a line are held.
 */
final class RestrictedSql extends InputStream {
    private static final byte[] RESTRICT = "\\restrict ".getBytes(StandardCharsets.US_ASCII);
    /** How much of a line is looked at: a key of pg_dump's is 64 characters. */
    private static final int HEAD = 1024;

    private final InputStream in;
    private final byte[] line = new byte[HEAD];
    private int lineLength;
    private int linePos;
    /** The rest of a long line (beyond {@link #HEAD}) passes through as it comes. */
    private boolean passingRest;
    /** Still in the header: nothing but comments and empty lines so far. */
    private boolean inHeader = true;
    /** The line that ends the dump's own restriction ({@code unrestrict} and the header's key), once the header had one. */
    private byte[] unrestrict;
    private boolean ended;

    private RestrictedSql(InputStream in) {
        this.in = new BufferedInputStream(in, 1 << 16);
    }

    /** {@code sql} behind a {@code \restrict} of {@code key}, the dump's own restrict lines left out. */
    static InputStream of(InputStream sql, String key) {
        return new SequenceInputStream(new java.io.ByteArrayInputStream(("\\restrict " + key + "\n").getBytes(StandardCharsets.US_ASCII)),
                new RestrictedSql(sql));
    }

    @Override
    public int read() throws IOException {
        while (true) {
            if (linePos < lineLength) {
                return line[linePos++] & 0xff;
            }
            if (passingRest) {
                int c = in.read();
                if (c < 0 || c == '\n') {
                    passingRest = false;
                }
                if (c >= 0) {
                    return c;
                }
            }
            if (ended || !nextLine()) {
                ended = true;
                return -1;
            }
        }
    }

    /** Reads the head of the next line into {@link #line}; false at the end. The dump's own restrict lines are skipped. */
    private boolean nextLine() throws IOException {
        lineLength = 0;
        linePos = 0;
        int c;
        while (lineLength < HEAD && (c = in.read()) >= 0) {
            line[lineLength++] = (byte) c;
            if (c == '\n') {
                break;
            }
        }
        if (lineLength == 0) {
            return false;
        }
        boolean whole = line[lineLength - 1] == '\n' || lineLength < HEAD;
        int content = line[lineLength - 1] == '\n' ? lineLength - 1 : lineLength;
        if (content > 0 && line[content - 1] == '\r') {
            content--;
        }
        passingRest = !whole;
        if (inHeader && whole && startsWith(RESTRICT) && content > RESTRICT.length) {
            // pg_dump's own restriction, in its header: left out; its end is known by the same key
            unrestrict = ("\\un" + new String(line, 1, content - 1, StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII);
            inHeader = false;
            lineLength = 0;
            return true;
        }
        if (inHeader && !(content == 0 || content >= 2 && line[0] == '-' && line[1] == '-')) {
            inHeader = false;
        }
        if (unrestrict != null && whole && content == unrestrict.length && Arrays.equals(line, 0, content, unrestrict, 0, content)) {
            lineLength = 0;
        }
        return true;
    }

    private boolean startsWith(byte[] prefix) {
        return lineLength >= prefix.length && Arrays.equals(line, 0, prefix.length, prefix, 0, prefix.length);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        int n = 0;
        while (n < len) {
            if (linePos < lineLength) {
                int chunk = Math.min(len - n, lineLength - linePos);
                System.arraycopy(line, linePos, b, off + n, chunk);
                linePos += chunk;
                n += chunk;
                continue;
            }
            int c = read();
            if (c < 0) {
                return n == 0 ? -1 : n;
            }
            b[off + n++] = (byte) c;
        }
        return n;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}

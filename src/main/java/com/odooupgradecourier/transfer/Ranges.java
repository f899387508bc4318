package com.odooupgradecourier.transfer;

import java.util.ArrayList;
import java.util.List;

/**
 * The byte ranges of a file that are known to be complete, as a sorted list of disjoint {@code [start, end)}
 * ranges. A transfer that writes several parts of a file at once leaves holes when it breaks, so the size of
 * what was written says nothing: only the ranges recorded as done are trusted, the rest is sent again.
 */
public final class Ranges {
    private final List<long[]> done = new ArrayList<>();

    /** Adds {@code [start, end)}, merged with what it touches. */
    public synchronized Ranges add(long start, long end) {
        if (start < 0 || end < start) {
            throw new IllegalArgumentException("not a range: [" + start + ", " + end + ")");
        }
        if (start == end) {
            return this;
        }
        long s = start;
        long e = end;
        List<long[]> merged = new ArrayList<>();
        for (long[] r : done) {
            if (r[1] < s || r[0] > e) {
                merged.add(r);
            } else {
                s = Math.min(s, r[0]);
                e = Math.max(e, r[1]);
            }
        }
        merged.add(new long[] {s, e});
        merged.sort((a, b) -> Long.compare(a[0], b[0]));
        done.clear();
        done.addAll(merged);
        return this;
    }

    /** How many bytes are done. */
    public synchronized long bytes() {
        return done.stream().mapToLong(r -> r[1] - r[0]).sum();
    }

    /**
     * What is still to send of a file of {@code size} bytes, cut into pieces of at most {@code block} bytes that
     * start on multiples of {@code block} (so the pieces of a resumed transfer are the pieces of the first one).
     */
    public synchronized List<long[]> missing(long size, long block) {
        List<long[]> out = new ArrayList<>();
        long at = 0;
        List<long[]> holes = new ArrayList<>();
        for (long[] r : done) {
            if (r[0] >= size) {
                break;
            }
            if (r[0] > at) {
                holes.add(new long[] {at, r[0]});
            }
            at = Math.max(at, r[1]);
        }
        if (at < size) {
            holes.add(new long[] {at, size});
        }
        for (long[] h : holes) {
            long s = h[0];
            while (s < h[1]) {
                long e = Math.min(h[1], (s / block + 1) * block);
                out.add(new long[] {s, e});
                s = e;
            }
        }
        return out;
    }

    /** {@code start-end,start-end…}, the form kept beside a partial download. */
    @Override
    public synchronized String toString() {
        StringBuilder sb = new StringBuilder();
        for (long[] r : done) {
            sb.append(sb.length() == 0 ? "" : ",").append(r[0]).append('-').append(r[1]);
        }
        return sb.toString();
    }

    /** Reads {@link #toString()}'s form; anything else is an error (a partial file is then not trusted). */
    public static Ranges parse(String text) {
        Ranges r = new Ranges();
        for (String part : text.trim().split(",")) {
            if (part.isEmpty()) {
                continue;
            }
            String[] se = part.split("-");
            if (se.length != 2) {
                throw new IllegalArgumentException("not a range: " + part);
            }
            r.add(Long.parseLong(se[0].trim()), Long.parseLong(se[1].trim()));
        }
        return r;
    }

    /**
     * The piece size for a file of {@code size} bytes sent over up to {@code channels} channels: about four pieces per
     * channel, at least 256 KiB (a break costs little on small files), at most 32 MiB (a break costs at most one
     * piece per channel). A piece is what is recorded once complete; a channel streams its pieces one after another.
     */
    public static long blockSize(long size, int channels) {
        long b = size / (Math.max(1, channels) * 4L);
        long min = 256 * 1024;
        long max = 32L * 1024 * 1024;
        b = Math.max(min, Math.min(max, b));
        return (b + 32767) / 32768 * 32768;
    }
}

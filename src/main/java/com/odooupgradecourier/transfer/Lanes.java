package com.odooupgradecourier.transfer;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;

/**
 * The pieces of one transfer still to move, dealt to the channels as lanes: each lane is a run of pieces in file order,
 * taken from its front by the one channel that owns it, so a channel streams its pieces one after another without
 * waiting for a piece's last acknowledgement (or its last read) before starting the next. A channel whose lane is
 * empty, and a channel added while the transfer runs, takes the back half of the lane with the most bytes left; what a
 * channel has begun is never taken from it.
 */
public final class Lanes {
    private final List<Deque<long[]>> lanes = new ArrayList<>();

    /** {@code pieces} ({start, end} each, in any order) dealt into {@code count} lanes of about equal bytes. */
    public Lanes(List<long[]> pieces, int count) {
        List<long[]> sorted = new ArrayList<>(pieces);
        sorted.sort(Comparator.comparingLong(p -> p[0]));
        long total = 0;
        for (long[] p : sorted) {
            total += p[1] - p[0];
        }
        int n = Math.max(1, Math.min(count, sorted.size()));
        long dealt = 0;
        Deque<long[]> lane = new ArrayDeque<>();
        lanes.add(lane);
        for (long[] p : sorted) {
            // a new lane starts once this one holds its share of the bytes
            if (!lane.isEmpty() && lanes.size() < n && dealt >= total * lanes.size() / n) {
                lane = new ArrayDeque<>();
                lanes.add(lane);
            }
            lane.add(p);
            dealt += p[1] - p[0];
        }
        while (lanes.size() < count) {
            lanes.add(new ArrayDeque<>());
        }
    }

    /** A lane for a channel added while the transfer runs: empty, it takes its work from the others. */
    public synchronized int add() {
        lanes.add(new ArrayDeque<>());
        return lanes.size() - 1;
    }

    /** How many lanes there are (one per channel). */
    public synchronized int count() {
        return lanes.size();
    }

    /** The next piece of lane {@code lane}, taking the back half of the fullest lane when its own is empty; null when none is left. */
    public synchronized long[] next(int lane) {
        Deque<long[]> own = lanes.get(lane);
        if (own.isEmpty()) {
            Deque<long[]> fullest = null;
            long most = 0;
            for (Deque<long[]> d : lanes) {
                long left = bytes(d);
                if (d != own && left > most) {
                    most = left;
                    fullest = d;
                }
            }
            if (fullest == null) {
                return null;
            }
            // the back half, in bytes, so the owner keeps its front (which its stream may already be reading ahead)
            Deque<long[]> taken = new ArrayDeque<>();
            long moved = 0;
            while (!fullest.isEmpty() && (taken.isEmpty() || moved + (fullest.peekLast()[1] - fullest.peekLast()[0]) <= most / 2)) {
                long[] p = fullest.pollLast();
                moved += p[1] - p[0];
                taken.addFirst(p);
            }
            own.addAll(taken);
        }
        return own.pollFirst();
    }

    /** The next piece of lane {@code lane} itself (never one taken from another lane), else null. */
    public synchronized long[] own(int lane) {
        return lanes.get(lane).pollFirst();
    }

    /** The next piece of lane {@code lane} when it begins at {@code start} (it follows on what the channel took last), else null. */
    public synchronized long[] follow(int lane, long start) {
        Deque<long[]> own = lanes.get(lane);
        return !own.isEmpty() && own.peekFirst()[0] == start ? own.pollFirst() : null;
    }

    /** Bytes left in all lanes (not counting pieces channels have taken). */
    public synchronized long left() {
        long left = 0;
        for (Deque<long[]> d : lanes) {
            left += bytes(d);
        }
        return left;
    }

    private static long bytes(Deque<long[]> lane) {
        long b = 0;
        for (long[] p : lane) {
            b += p[1] - p[0];
        }
        return b;
    }
}

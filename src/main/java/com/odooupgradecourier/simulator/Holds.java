package com.odooupgradecourier.simulator;

import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Named points where the simulators can hold a call (fault injection for tests: a call held while the service is
 * killed, say), each released by name.
 */
final class Holds {
    private final Map<String, CountDownLatch> holds = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> held = new ConcurrentHashMap<>();

    /** Calls that reach {@code point} from now on wait there until it is released. */
    void holdAt(String point) {
        holds.put(point, new CountDownLatch(1));
    }

    boolean holding(String point) {
        return holds.containsKey(point);
    }

    /** How many calls are waiting at {@code point} now. */
    int heldAt(String point) {
        AtomicInteger n = held.get(point);
        return n == null ? 0 : n.get();
    }

    void release(String point) {
        CountDownLatch latch = holds.remove(point);
        if (latch != null) {
            latch.countDown();
        }
    }

    /** Releases every call waiting at any point. */
    void releaseAll() {
        new ArrayList<>(holds.keySet()).forEach(this::release);
    }

    /** Waits here while {@code point} is held. */
    void pauseAt(String point) {
        CountDownLatch latch = holds.get(point);
        if (latch == null) {
            return;
        }
        AtomicInteger n = held.computeIfAbsent(point, p -> new AtomicInteger());
        n.incrementAndGet();
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            n.decrementAndGet();
        }
    }
}

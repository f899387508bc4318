package com.odooupgradecourier.transfer;

import java.util.concurrent.Semaphore;
import org.apache.camel.Exchange;

/**
 * One limit for the transfers with the platform ({@code courier.max-parallel-transfers}): uploads and downloads
 * together. A step takes a slot before it moves bytes and gives it back when it ends, whatever happened.
 */
public class TransferSlots {
    private static final String HELD = "transferSlot";
    private final Semaphore slots;

    public TransferSlots(int max) {
        this.slots = new Semaphore(Math.max(1, max), true);
    }

    /** Waits for a free slot. */
    public void take(Exchange exchange) throws InterruptedException {
        if (exchange.getProperty(HELD) == null) {
            slots.acquire();
            exchange.setProperty(HELD, true);
        }
    }

    /** Gives the exchange's slot back, if it holds one. */
    public void give(Exchange exchange) {
        if (exchange.removeProperty(HELD) != null) {
            slots.release();
        }
    }
}

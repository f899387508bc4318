package com.odooupgradecourier.transfer;

/**
 * How many SFTP channels a transfer uses, found while it runs. Over a long link each channel moves at most one SSH
 * window per round trip, so channels add throughput until the link, the server or the processors are full; over a
 * short one a few channels are already as fast as it gets, and more only cost.
 *
 * <p>A transfer starts with {@link #START} channels (fewer when the maximum, {@code upgrade.sftp.channels}, is lower).
 * Each measuring interval after the first (in which new channels open their files and fill their first window) is
 * judged: the channels are doubled, up to the maximum, when each moved at least half a window per round trip (the
 * window, not the link, is what holds them back) and the transfer as a whole moved at least {@link #GAIN} times what
 * it moved before the last doubling. Once that is not so, the count stays for the rest of the transfer.
 */
public final class ChannelGrowth {
    /** Channels a transfer starts with. */
    public static final int START = 4;
    /** The least gain (a factor) that makes the last doubling worth another. */
    public static final double GAIN = 1.2;

    private final int max;
    private final double windowBound;
    private int channels;
    private double before = -1;
    private boolean settling = true;
    private boolean done;

    /**
     * @param max the most channels the transfer may use
     * @param window the bytes one channel may have in flight (its SSH window)
     * @param roundTripNanos the round trip measured while opening the first channel
     */
    public ChannelGrowth(int max, long window, long roundTripNanos) {
        this.max = Math.max(1, max);
        this.channels = Math.min(this.max, START);
        this.windowBound = 0.5 * window * 1e9 / Math.max(1, roundTripNanos);
    }

    /** The channels to use now. */
    public int channels() {
        return channels;
    }

    /** Told the bytes per second of the interval just ended; answers how many channels to use from now on. */
    public int measured(double bytesPerSecond) {
        if (settled()) {
            return channels;
        }
        if (settling) {
            settling = false;
            return channels;
        }
        boolean held = bytesPerSecond / channels >= windowBound;
        boolean grew = before < 0 || bytesPerSecond >= before * GAIN;
        if (held && grew) {
            before = bytesPerSecond;
            channels = Math.min(max, channels * 2);
            settling = true;
        } else {
            done = true;
        }
        return channels;
    }

    /** The server granted no more than {@code opened} channels: the count stays there. */
    public void refused(int opened) {
        channels = Math.max(1, opened);
        done = true;
    }

    /** True once the count will not change any more. */
    public boolean settled() {
        return done || channels >= max;
    }
}

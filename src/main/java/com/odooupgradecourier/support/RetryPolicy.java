package com.odooupgradecourier.support;

/**
 * How a fault that may pass is tried again, named once ({@code upgrade.retry.*}): {@code attempts} retries in the step
 * with a doubling delay from {@code delay}, then the dump is parked and taken again after a back-off that goes on
 * doubling; no wait is ever longer than {@code maxDelay}. routes/errors.yaml gives the same three settings to Camel's
 * redelivery; the store parks with {@link #parkedFor}.
 *
 * @param attempts {@code upgrade.retry.attempts}
 * @param delay    {@code upgrade.retry.delay}, milliseconds
 * @param maxDelay {@code upgrade.retry.max-delay}, milliseconds
 */
public record RetryPolicy(int attempts, long delay, long maxDelay) {
    public RetryPolicy {
        if (attempts < 0 || delay < 0 || maxDelay < 0) {
            throw new IllegalArgumentException("retry attempts and delays cannot be negative");
        }
    }

    /** The wait before retry {@code n} in the step (1: the first retry). */
    public long delayBefore(int n) {
        return Math.min(maxDelay, delay * (1L << Math.min(30, Math.max(0, n - 1))));
    }

    /** The wait before a dump parked {@code parkedBefore} times already is taken again: the retries' doubling, continued. */
    public long parkedFor(long parkedBefore) {
        return Math.min(maxDelay, delay * (1L << Math.min(30, attempts + parkedBefore)));
    }
}

package com.odooupgradecourier.store;

import java.util.Locale;

/**
 * The steps of a dump's journey, in order. A dump is in exactly one step; it leaves it only by a
 * {@link Transition}. {@code delivered} and {@code failed} are final: nothing takes such a dump up again
 * (but a retry, which returns a failed dump to the step it failed at).
 */
public enum Step {
    /** Taken from the drop folder into custody; not yet inspected. */
    RECEIVED,
    /**
     * Inspected, but not sent: a production upgrade of a source with no test of it (to the same target) delivered within
     * {@code courier.production.max-test-age}. Nothing takes it up (it is not due) until it is released: by such a test
     * being delivered, or by a person (retry). Not final, and never on the platform.
     */
    HELD,
    /** Inspected (format, size, sha256) and the only unfinished dump with its sha256; no request yet. */
    ADMITTED,
    /** The platform's request exists: its id and key are stored. */
    CREATED,
    /** Being uploaded (a retake resumes: SFTP appends the missing bytes, HTTPS starts over). */
    UPLOADING,
    /** The platform holds the whole dump; not yet asked to upgrade it. */
    UPLOADED,
    /** The platform is upgrading it: its status is polled. */
    PROCESSING,
    /** The platform finished the upgrade; the archive is not downloaded yet. */
    DONE,
    /** The archive is being downloaded (a retake resumes from the bytes on disk). */
    DOWNLOADING,
    /** The archive (and its notes) are complete on disk, waiting to be delivered. */
    DOWNLOADED,
    /**
     * Delivered, and being restored into a new PostgreSQL database (when {@code courier.restore.url} is set). The
     * platform's work is over: the same dump dropped again is a new upgrade.
     */
    RESTORING,
    /** Delivered to the output (and restored, when restores are configured); the dump left custody. Final. */
    DELIVERED,
    /** Delivered, but its restore failed: the database it created was dropped, the archive kept. Final (a retry restores again). */
    RESTORE_FAILED,
    /** Bounced: an error record and the dump are in the failed folder. Final. */
    FAILED;

    /** The name stored and shown: lower case with dashes, e.g. {@code uploading}, {@code restore-failed}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public boolean isFinal() {
        return this == DELIVERED || this == FAILED || this == RESTORE_FAILED;
    }

    /** Whether the platform's work on the dump is over (delivered, being restored, or final): it is not in flight. */
    public boolean leftPlatform() {
        return isFinal() || this == RESTORING;
    }

    /** The steps, as an SQL list of quoted ids, for which {@code test} holds: e.g. {@code 'delivered', 'failed'}. */
    public static String sqlList(java.util.function.Predicate<Step> test) {
        return java.util.Arrays.stream(values()).filter(test).map(s -> "'" + s.id() + "'")
                .collect(java.util.stream.Collectors.joining(", "));
    }

    public static Step of(String id) {
        return valueOf(id.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    }

    @Override
    public String toString() {
        return id();
    }
}

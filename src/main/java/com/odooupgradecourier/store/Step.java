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
    /** Delivered to the output; the dump left custody. Final. */
    DELIVERED,
    /** Bounced: an error record and the dump are in the failed folder. Final. */
    FAILED;

    /** The name stored and shown: lower case, e.g. {@code uploading}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean isFinal() {
        return this == DELIVERED || this == FAILED;
    }

    public static Step of(String id) {
        return valueOf(id.trim().toUpperCase(Locale.ROOT));
    }

    @Override
    public String toString() {
        return id();
    }
}

package com.odooupgradecourier.store;

import static com.odooupgradecourier.store.Step.ADMITTED;
import static com.odooupgradecourier.store.Step.CREATED;
import static com.odooupgradecourier.store.Step.DELIVERED;
import static com.odooupgradecourier.store.Step.RESTORE_FAILED;
import static com.odooupgradecourier.store.Step.RESTORING;
import static com.odooupgradecourier.store.Step.DONE;
import static com.odooupgradecourier.store.Step.DOWNLOADED;
import static com.odooupgradecourier.store.Step.DOWNLOADING;
import static com.odooupgradecourier.store.Step.FAILED;
import static com.odooupgradecourier.store.Step.HELD;
import static com.odooupgradecourier.store.Step.PROCESSING;
import static com.odooupgradecourier.store.Step.RECEIVED;
import static com.odooupgradecourier.store.Step.UPLOADED;
import static com.odooupgradecourier.store.Step.UPLOADING;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Every way a dump may move from one step to another, named once. Routes call them by name
 * ({@code dumps.go(*, 'created')}); the store applies each as one guarded update
 * ({@code where id = ? and step = ? and lease_owner = ?}) and records it in {@code dump_events}.
 *
 * <p>Each transition names the columns it writes (from the exchange properties of the same meaning, see
 * {@link Dumps#PROPERTY_OF}) and when the dump is due next: at once (the next step's route takes it), after
 * the poll interval, after a back-off (parked), or never (final).
 */
public enum Transition {
    /** Inspected, settings applied; refused when another unfinished dump has the same sha256. */
    ADMIT("admitted", EnumSet.of(RECEIVED), ADMITTED, Due.NOW,
            "path", "size", "sha256", "format", "platform_name", "contract", "email", "target", "aim", "timezone",
            "restore", "restore_name", "env_vars", "file_stamp", "sha256_from", "source_database", "source"),
    /**
     * Inspected like an admitted dump, but held: a production upgrade with no recent test of its source (the reason in
     * {@code last_error}). Not due until released.
     */
    HOLD("held", EnumSet.of(RECEIVED), HELD, Due.NEVER,
            "path", "size", "sha256", "format", "platform_name", "contract", "email", "target", "aim", "timezone",
            "restore", "restore_name", "env_vars", "file_stamp", "sha256_from", "source_database", "source", "last_error"),
    /** A held dump goes on (a test of its source was delivered, or a person released it): admitted, due at once. */
    RELEASE("released", EnumSet.of(HELD), ADMITTED, Due.NOW),
    /** The platform created the request: its id and key are kept before any byte is sent. */
    CREATE("created", EnumSet.of(ADMITTED), CREATED, Due.NOW, "request_id", "request_key", "request_created_millis",
            "host_uri"),
    /** An upload begins, or a broken one is taken up again. */
    START_UPLOAD("upload-started", EnumSet.of(CREATED, UPLOADING), UPLOADING, Due.NONE),
    /** The platform holds every byte of the dump. */
    UPLOAD("uploaded", EnumSet.of(UPLOADING), UPLOADED, Due.NOW),
    /** The platform accepted {@code process} (or its status shows it already left draft). */
    PROCESS("processing", EnumSet.of(UPLOADED), PROCESSING, Due.POLL, "state", "pg_compatible", "host_uri"),
    /** A status answer while the upgrade still runs. */
    POLL("polled", EnumSet.of(PROCESSING), PROCESSING, Due.POLL,
            "state", "customer_message", "elapsed", "estimated_time", "status_url", "host_uri"),
    /** The platform finished: the archive's URLs are kept for the download. */
    FINISH("upgraded", EnumSet.of(PROCESSING), DONE, Due.NOW,
            "state", "customer_message", "elapsed", "estimated_time", "status_url", "download_url", "notes_url", "host_uri", "pg_version"),
    /** A download begins, or a broken one is taken up again. */
    START_DOWNLOAD("download-started", EnumSet.of(DONE, DOWNLOADING), DOWNLOADING, Due.NONE),
    /** The archive (and the notes, when there are any) are complete and verified on disk. */
    DOWNLOAD("downloaded", EnumSet.of(DOWNLOADING), DOWNLOADED, Due.NOW),
    /** The archive is at the output under its delivered name. */
    DELIVER("delivered", EnumSet.of(DOWNLOADED), DELIVERED, Due.NEVER, "delivered_to"),
    /** The archive is at the output under its delivered name, and is to be restored into a new database. */
    DELIVER_TO_RESTORE("delivered-to-restore", EnumSet.of(DOWNLOADED), RESTORING, Due.NOW, "delivered_to"),
    /**
     * The restore is about to make its role and database: their names are kept first, so a restore cut short drops them
     * (and only them: the database is marked as made for this dump) before it is taken up again.
     */
    CREATE_DATABASE("database-created", EnumSet.of(RESTORING), RESTORING, Due.NONE, "restored_to", "restore_role"),
    /** The archive is restored into its own new database (and its filestore beside the others). */
    RESTORE("restored", EnumSet.of(RESTORING), DELIVERED, Due.NEVER, "restored_to", "restore_role", "filestore_path",
            "missing_attachments", "neutralized"),
    /** The restore failed: the database it created is dropped again, the archive stays delivered. */
    FAIL_RESTORE("restore-failed", EnumSet.of(RESTORING), RESTORE_FAILED, Due.NEVER, "last_error", "restored_to", "restore_role"),
    /** A fault that may pass outlived the step's retries: the dump waits in its step until it is due again. */
    PARK("parked", unfinished(), null, Due.BACK_OFF, "last_error"),
    /** A final cause (or the end of the dump's lifetime): bounced with a record. A delivered dump is never bounced. */
    FAIL("failed", onPlatform(), FAILED, Due.NEVER,
            "last_error", "what_to_do", "path", "state", "customer_message", "size", "sha256", "format", "platform_name"),
    /**
     * A failed dump taken up again, at the step it failed at (its platform request, if any, kept); a failed restore is
     * restored again.
     */
    RETRY("retried", EnumSet.of(FAILED, RESTORE_FAILED), null, Due.NOW);

    /** What a transition does besides moving the dump and writing its columns, applied by {@link Dumps#go}. */
    enum Effect {
        /** The request exists (or the platform holds the whole dump): the journal beside the dump in custody is written. */
        JOURNAL,
        /** Delivered: the request's key and URLs are needed no more and kept no longer, in the row nor in the file. */
        FORGETS_REQUEST,
        /** Bounced: the step it failed at is kept, for a retry. */
        KEEPS_FAILED_STEP,
        /** A failed restore: kept as failed at restoring, for a retry. */
        FAILED_AT_RESTORE,
        /** Parked: one attempt more, due after the back-off of the attempts so far. */
        COUNTS_ATTEMPT,
        /** A retry: back at the step it failed at, with a fresh lifetime; needs no lease (nobody works on a failed dump). */
        STARTS_OVER,
        /** A held dump released: a fresh lifetime; needs no lease (nobody works on a held dump). */
        RELEASES
    }

    /** When a dump is due again after a transition. */
    enum Due {
        /** At once: the route of its new step takes it. */
        NOW,
        /** After {@code upgrade.poll-interval}. */
        POLL,
        /** After the back-off of its attempts so far. */
        BACK_OFF,
        /** Not by the queue: the work that made this transition goes on with the dump. */
        NONE,
        /** Never: a final step. */
        NEVER
    }

    private final String id;
    private final Set<Step> from;
    private final Step to;
    private final Due due;
    private final List<String> columns;

    Transition(String id, Set<Step> from, Step to, Due due, String... columns) {
        this.id = id;
        this.from = from;
        this.to = to;
        this.due = due;
        this.columns = List.of(columns);
    }

    /** What each transition does besides moving the dump and writing its columns. */
    private static final java.util.Map<Transition, Set<Effect>> EFFECTS = java.util.Map.of(
            CREATE, EnumSet.of(Effect.JOURNAL),
            UPLOAD, EnumSet.of(Effect.JOURNAL),
            DELIVER, EnumSet.of(Effect.FORGETS_REQUEST),
            DELIVER_TO_RESTORE, EnumSet.of(Effect.FORGETS_REQUEST),
            FAIL, EnumSet.of(Effect.KEEPS_FAILED_STEP),
            FAIL_RESTORE, EnumSet.of(Effect.FAILED_AT_RESTORE),
            PARK, EnumSet.of(Effect.COUNTS_ATTEMPT),
            RETRY, EnumSet.of(Effect.STARTS_OVER),
            RELEASE, EnumSet.of(Effect.RELEASES));

    /** Whether this transition has {@code effect}. */
    boolean has(Effect effect) {
        return EFFECTS.getOrDefault(this, EnumSet.noneOf(Effect.class)).contains(effect);
    }

    private static Set<Step> onPlatform() {
        EnumSet<Step> s = EnumSet.allOf(Step.class);
        s.removeIf(Step::leftPlatform);
        return s;
    }

    private static Set<Step> unfinished() {
        EnumSet<Step> s = EnumSet.allOf(Step.class);
        s.removeIf(Step::isFinal);
        return s;
    }

    /** The name routes use, e.g. {@code created}. */
    public String id() {
        return id;
    }

    public boolean allowedFrom(Step step) {
        return from.contains(step);
    }

    /** The step a dump is in after this transition from {@code step}. */
    public Step target(Step step) {
        if (this == RETRY || to == null && this != PARK) {
            throw new IllegalStateException(id + " has no fixed target");
        }
        return to == null ? step : to;
    }

    Due due() {
        return due;
    }

    List<String> columns() {
        return columns;
    }

    public static Transition named(String id) {
        return Arrays.stream(values()).filter(t -> t.id.equals(id.trim().toLowerCase(Locale.ROOT))).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no transition named '" + id + "'"));
    }
}

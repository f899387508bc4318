package com.odooupgradecourier;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.sql.DataSource;

/**
 * A store full of dumps as months of work leave it, written straight into its tables: delivered ones (their journeys
 * spread over the last two weeks), failed ones, ones waiting after a fault, ones in flight. None is due: the service
 * that reads the store shows them and never takes them up. What was written is counted, so tests know what to expect.
 */
final class ManyDumps {
    static final String[] IN_FLIGHT = {"admitted", "created", "uploading", "uploaded", "processing", "done", "downloading", "downloaded"};
    private static final String[] JOURNEY = {"received", "admitted", "created", "upload-started", "uploaded", "processing", "upgraded",
        "download-started", "downloaded", "delivered"};
    private static final String[] JOURNEY_TO = {"received", "admitted", "created", "uploading", "uploaded", "processing", "done",
        "downloading", "downloaded", "delivered"};

    int delivered;
    int failed;
    int waiting;
    int inFlight;
    int events;
    final List<Long> deliveredAt = new ArrayList<>();
    final List<String> ids = new ArrayList<>();

    /** Writes {@code n} dumps (one of them named {@code longName}, when given), received over the 14 days before {@code now}. */
    ManyDumps fill(DataSource store, int n, long now, String longName) throws Exception {
        Random random = new Random(42);
        try (Connection c = store.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement dump = c.prepareStatement("insert into dumps (id, file_name, path, size, sha256, step, request_id, "
                    + "received_millis, next_attempt_at, last_error, what_to_do, attempts, state, delivered_to, target, aim) "
                    + "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
                 PreparedStatement event = c.prepareStatement("insert into dump_events (dump_id, at_millis, transition, from_step, to_step, "
                         + "node, detail) values (?, ?, ?, ?, ?, 'node-1', ?)")) {
                for (int i = 0; i < n; i++) {
                    String id = String.format("fill%011d", i);
                    ids.add(id);
                    String name = i == 7 && longName != null ? longName : "customer-" + (i % 37) + "-db-" + i + (i % 3 == 0 ? ".dump" : ".zip");
                    long received = now - (long) (random.nextDouble() * 13.5 * 86_400_000L) - 60_000;
                    int kind = i % 10;
                    String step;
                    String error = null;
                    long next = Long.MAX_VALUE / 2;
                    int reached;
                    if (kind < 6) {
                        step = "delivered";
                        reached = JOURNEY.length;
                        delivered++;
                    } else if (kind == 6) {
                        step = "failed";
                        error = "the platform refused the dump: unsupported target 5.0";
                        reached = 4;
                        failed++;
                    } else if (kind == 7) {
                        step = "uploading";
                        error = "the platform's SFTP server did not answer (connection refused)";
                        next = now + 600_000;
                        reached = 4;
                        waiting++;
                    } else {
                        step = IN_FLIGHT[i % IN_FLIGHT.length];
                        reached = java.util.Arrays.asList(JOURNEY_TO).indexOf(step) + 1;
                        inFlight++;
                    }
                    long at = received;
                    long lastEvent = received;
                    for (int e = 0; e < reached; e++) {
                        event.setString(1, id);
                        event.setLong(2, at);
                        lastEvent = at;
                        event.setString(3, JOURNEY[e]);
                        event.setString(4, e == 0 ? null : JOURNEY_TO[e - 1]);
                        event.setString(5, JOURNEY_TO[e]);
                        event.setString(6, null);
                        event.addBatch();
                        events++;
                        long stay = JOURNEY[e].equals("processing") ? 60_000 + random.nextInt(3_600_000) : 1_000 + random.nextInt(60_000);
                        at = Math.min(now - 1_000, at + stay);
                    }
                    if (error != null) {
                        event.setString(1, id);
                        event.setLong(2, lastEvent + 500);
                        event.setString(3, kind == 6 ? "failed" : "parked");
                        event.setString(4, JOURNEY_TO[reached - 1]);
                        event.setString(5, kind == 6 ? "failed" : JOURNEY_TO[reached - 1]);
                        event.setString(6, error);
                        event.addBatch();
                        events++;
                    }
                    if (step.equals("delivered")) {
                        deliveredAt.add(lastEvent);
                    }
                    dump.setString(1, id);
                    dump.setString(2, name);
                    dump.setString(3, "/nowhere/" + id);
                    dump.setLong(4, 1_000_000L + random.nextInt(2_000_000_000));
                    dump.setString(5, String.format("%064x", i));
                    dump.setString(6, step);
                    dump.setLong(7, 100_000 + i);
                    dump.setLong(8, received);
                    dump.setLong(9, next);
                    dump.setString(10, error);
                    dump.setString(11, kind == 6 ? "Correct the target (in the dump's .properties, or the setting) and press Retry." : null);
                    dump.setInt(12, error == null ? 0 : 3);
                    dump.setString(13, step.equals("processing") ? "processing" : step.equals("delivered") ? "done" : null);
                    dump.setString(14, step.equals("delivered") ? "/srv/out/upgraded_" + id + ".zip" : null);
                    dump.setString(15, "17.0");
                    dump.setString(16, "test");
                    dump.addBatch();
                    if (i % 500 == 499) {
                        dump.executeBatch();
                        event.executeBatch();
                    }
                }
                dump.executeBatch();
                event.executeBatch();
            }
            c.commit();
        }
        return this;
    }
}

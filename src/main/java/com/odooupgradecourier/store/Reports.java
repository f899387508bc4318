package com.odooupgradecourier.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * What the store says to people, read only: how many dumps are in each step, which wait after a fault and since when,
 * how many were delivered since a time, one page of dumps found by name or request id, how long deliveries took, and
 * one dump's journey ({@code dump_events}). The status page, its dump pages and the metrics read the store only here.
 */
public class Reports {
    /** Transitions after which a dump is delivered (with or without a restore). */
    private static final String DELIVERIES = "'delivered', 'restored', 'restore-failed'";
    /**
     * An unfinished dump that has had a fault since its last step forward (parked for its next attempt, or being tried
     * again in its step: its error stays until it moves on), held ones aside. Stable while the dump is retried, so an alert
     * on how long it has waited does not reset with every attempt.
     */
    private static final String WAITING = "step not in (" + Step.sqlList(Step::isFinal) + ", 'held') and last_error is not null";

    /** Transitions of one millisecond in the order of their steps. */
    private static final String STEP_ORDER = java.util.Arrays.stream(Step.values())
            .map(s -> "when '" + s.id() + "' then " + s.ordinal()).collect(java.util.stream.Collectors.joining(" ", "case to_step ", " end"));

    private final DataSource store;

    public Reports(DataSource store) {
        this.store = store;
    }

    /** How many dumps are in each step (every step, 0 for none), and how many of the unfinished ones wait after a fault. */
    public record Counts(Map<Step, Long> perStep, long waiting, long oldestWaitingMillis) {
        public long in(Step step) {
            return perStep.getOrDefault(step, 0L);
        }
    }

    /**
     * The dumps per step, the number waiting after a fault, and how long the one waiting longest has waited at {@code now}
     * (since its last step forward, or since it was received; 0 when none waits).
     */
    public Counts counts(long now) throws SQLException {
        Map<Step, Long> perStep = new EnumMap<>(Step.class);
        for (Step s : Step.values()) {
            perStep.put(s, 0L);
        }
        try (Connection c = store.getConnection()) {
            for (Map<String, Object> r : Rows.query(c, "select step, count(*) as n from dumps group by step", Integer.MAX_VALUE)) {
                perStep.put(Step.of((String) r.get("step")), ((Number) r.get("n")).longValue());
            }
            List<Map<String, Object>> w = Rows.query(c, "select count(*) as n, min(since) as since from (select coalesce((select "
                    + "max(e.at_millis) from dump_events e where e.dump_id = d.id and e.transition <> 'parked'), d.received_millis) "
                    + "as since from dumps d where " + WAITING + ") w", 1);
            long n = ((Number) w.get(0).get("n")).longValue();
            long since = w.get(0).get("since") instanceof Number s ? s.longValue() : now;
            return new Counts(perStep, n, n == 0 ? 0 : Math.max(0, now - since));
        }
    }

    /** How many dumps were delivered at or after each of these times (epoch milliseconds), in one read. */
    public long[] deliveredSince(long... since) throws SQLException {
        long earliest = java.util.Arrays.stream(since).min().orElse(0);
        long[] n = new long[since.length];
        try (Connection c = store.getConnection();
             PreparedStatement s = c.prepareStatement("select dump_id, min(at_millis) from dump_events where transition in (" + DELIVERIES
                     + ") and at_millis >= ? group by dump_id")) {
            s.setLong(1, earliest);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    for (int i = 0; i < since.length; i++) {
                        n[i] += rs.getLong(2) >= since[i] ? 1 : 0;
                    }
                }
            }
        }
        return n;
    }

    /** A dump that needs a person: bounced, its restore failed, held (a production upgrade without a recent test), or waiting after a fault for longer than {@code waitingLong}. */
    public List<Map<String, Object>> needingAPerson(long now, long waitingLong, int max) throws SQLException {
        try (Connection c = store.getConnection()) {
            return Rows.query(c, "select * from dumps d where step in ('failed', 'restore-failed', 'held') or (" + WAITING
                    + " and coalesce((select max(e.at_millis) from dump_events e where e.dump_id = d.id and e.transition <> 'parked'), "
                    + "d.received_millis) < ?) order by received_millis desc, id desc", max, now - waitingLong);
        }
    }

    /** One page of dumps, newest first, and how many there are in all. */
    public record Found(List<Map<String, Object>> rows, long total) {
    }

    /**
     * The dumps whose name contains {@code text} or whose request id is {@code text} (all when blank), of one step (all when
     * null), newest first: {@code max} of them from the {@code offset}-th on.
     */
    public Found find(String text, Step step, int offset, int max) throws SQLException {
        StringBuilder where = new StringBuilder(" where 1 = 1");
        List<Object> args = new ArrayList<>();
        if (step != null) {
            where.append(" and step = ?");
            args.add(step.id());
        }
        if (text != null && !text.isBlank()) {
            String t = text.strip();
            where.append(" and (lower(file_name) like ? escape '!'");
            args.add("%" + t.toLowerCase(java.util.Locale.ROOT).replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%");
            if (t.matches("\\d{1,18}")) {
                where.append(" or request_id = ?");
                args.add(Long.valueOf(t));
            }
            where.append(")");
        }
        try (Connection c = store.getConnection()) {
            long total = ((Number) Rows.query(c, "select count(*) as n from dumps" + where, 1, args.toArray()).get(0).get("n")).longValue();
            List<Object> paged = new ArrayList<>(args);
            paged.add(max);
            paged.add(offset);
            List<Map<String, Object>> rows = Rows.query(c, "select * from dumps" + where
                    + " order by received_millis desc, id desc limit ? offset ?", max, paged.toArray());
            return new Found(rows, total);
        }
    }

    /** One delivery: when, and how long it took from the drop folder. */
    public record Delivery(long atMillis, long tookMillis) {
    }

    /** The deliveries at or after {@code since}, oldest first (at most {@code max}: the newest ones). */
    public List<Delivery> deliveries(long since, int max) throws SQLException {
        List<Delivery> out = new ArrayList<>();
        try (Connection c = store.getConnection();
             PreparedStatement s = c.prepareStatement("select e.at_millis, e.at_millis - d.received_millis from dump_events e "
                     + "join dumps d on d.id = e.dump_id where e.transition in (" + DELIVERIES + ") and e.at_millis >= ? "
                     + "and d.received_millis is not null order by e.at_millis desc")) {
            s.setLong(1, since);
            s.setMaxRows(max);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.add(new Delivery(rs.getLong(1), Math.max(0, rs.getLong(2))));
                }
            }
        }
        java.util.Collections.reverse(out);
        return out;
    }

    /** One transition of a dump's journey, as {@code dump_events} recorded it. */
    public record Event(long atMillis, String transition, String from, String to, String node, String detail) {
    }

    /** A dump's journey, oldest transition first. */
    public List<Event> journey(String id) throws SQLException {
        List<Event> out = new ArrayList<>();
        try (Connection c = store.getConnection()) {
            for (Map<String, Object> r : Rows.query(c, "select * from dump_events where dump_id = ? order by at_millis, " + STEP_ORDER,
                    10_000, id)) {
                out.add(new Event(((Number) r.get("at_millis")).longValue(), (String) r.get("transition"), (String) r.get("from_step"),
                        (String) r.get("to_step"), (String) r.get("node"), (String) r.get("detail")));
            }
        }
        return out;
    }
}

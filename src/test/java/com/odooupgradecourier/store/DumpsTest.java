package com.odooupgradecourier.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.odooupgradecourier.TestPostgres;
import com.odooupgradecourier.store.DuplicateDumpException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import com.odooupgradecourier.TestStore;
import com.odooupgradecourier.support.RetryPolicy;

/** The state machine in the store, on both databases: guarded transitions, leases, duplicates, times. */
class DumpsTest {
    private static final long LEASE = 20_000;
    private static final long POLL = 60_000;
    private static final long YEAR = 365L * 24 * 3600 * 1000;

    @TempDir
    Path tmp;
    private final AtomicLong clock = new AtomicLong(1_800_000_000_000L);
    private final DefaultCamelContext camel = new DefaultCamelContext();

    private DataSource open(String kind) throws Exception {
        return kind.equals("sqlite") ? Store.open("", "", "", tmp)
                : Store.open(TestPostgres.freshUrl(), TestPostgres.user(), TestPostgres.password(), tmp);
    }

    private StoreNode node(DataSource ds, String name) {
        return new StoreNode(ds, name, LEASE, POLL, new RetryPolicy(6, 2000, 120_000), YEAR, clock::get);
    }

    /** A dump received and claimed by {@code dumps}, as the exchange a route would have. */
    private Exchange claimed(StoreNode dumps, String id, String sha) throws Exception {
        dumps.receive(id, id + ".sql", "/custody/" + id + ".sql");
        Map<String, Object> row = dumps.claimDue().stream().filter(r -> r.get("id").equals(id)).findFirst().orElseThrow();
        Exchange ex = new DefaultExchange(camel);
        dumps.load(ex, row);
        ex.setProperty("dumpSha256", sha);
        ex.setProperty("dumpSize", 42L);
        ex.setProperty("requestId", "10534");
        ex.setProperty("requestKey", "k");
        return ex;
    }

    /** The path through the steps that leads to {@code step}, from received. */
    private static final Map<Step, List<String>> PATH_TO = Map.ofEntries(
            Map.entry(Step.RECEIVED, List.of()),
            Map.entry(Step.HELD, List.of("held")),
            Map.entry(Step.ADMITTED, List.of("admitted")),
            Map.entry(Step.CREATED, List.of("admitted", "created")),
            Map.entry(Step.UPLOADING, List.of("admitted", "created", "upload-started")),
            Map.entry(Step.UPLOADED, List.of("admitted", "created", "upload-started", "uploaded")),
            Map.entry(Step.PROCESSING, List.of("admitted", "created", "upload-started", "uploaded", "processing")),
            Map.entry(Step.DONE, List.of("admitted", "created", "upload-started", "uploaded", "processing", "upgraded")),
            Map.entry(Step.DOWNLOADING, List.of("admitted", "created", "upload-started", "uploaded", "processing", "upgraded",
                    "download-started")),
            Map.entry(Step.DOWNLOADED, List.of("admitted", "created", "upload-started", "uploaded", "processing", "upgraded",
                    "download-started", "downloaded")),
            Map.entry(Step.DELIVERED, List.of("admitted", "created", "upload-started", "uploaded", "processing", "upgraded",
                    "download-started", "downloaded", "delivered")),
            Map.entry(Step.RESTORING, List.of("admitted", "created", "upload-started", "uploaded", "processing", "upgraded",
                    "download-started", "downloaded", "delivered-to-restore")),
            Map.entry(Step.RESTORE_FAILED, List.of("admitted", "created", "upload-started", "uploaded", "processing", "upgraded",
                    "download-started", "downloaded", "delivered-to-restore", "restore-failed")),
            Map.entry(Step.FAILED, List.of("admitted", "created", "failed")));

    /**
     * Every step on SQLite; on PostgreSQL (a connection per transaction costs ten times more there) the first step each
     * transition may start from and the first it may not: the same guarded SQL, once allowed and once refused.
     */
    private static List<Step> steps(String kind, Transition t) {
        if (kind.equals("sqlite")) {
            return List.of(Step.values());
        }
        List<Step> some = new java.util.ArrayList<>();
        java.util.Arrays.stream(Step.values()).filter(t::allowedFrom).findFirst().ifPresent(some::add);
        java.util.Arrays.stream(Step.values()).filter(s -> !t.allowedFrom(s)).findFirst().ifPresent(some::add);
        return some;
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void everyAllowedTransitionPassesAndEveryOtherIsRefused(String kind) throws Exception {
        DataSource ds = open(kind);
        StoreNode dumps = node(ds, "a");
        TestStore db = new TestStore(ds);
        int n = 0;
        for (Transition t : Transition.values()) {
            for (Step step : steps(kind, t)) {
                String id = "d" + n++;
                Exchange ex = claimed(dumps, id, "sha-" + id);
                for (String go : PATH_TO.get(step)) {
                    dumps.go(ex, go);
                }
                assertThat(db.queryForObject("select step from dumps where id = ?", String.class, id)).isEqualTo(step.id());
                if (t.allowedFrom(step)) {
                    dumps.go(ex, t.id());
                    Step expected = t != Transition.RETRY ? t.target(step) : step == Step.RESTORE_FAILED ? Step.RESTORING : Step.CREATED;
                    assertThat(db.queryForObject("select step from dumps where id = ?", String.class, id))
                            .as("%s from %s", t.id(), step).isEqualTo(expected.id());
                    assertThat(db.queryForObject("select count(*) from dump_events where dump_id = ? and transition = ?",
                            Integer.class, id, t.id())).isPositive();
                } else {
                    assertThatThrownBy(() -> dumps.go(ex, t.id())).as("%s from %s", t.id(), step)
                            .isInstanceOf(IllegalTransitionException.class);
                    assertThat(db.queryForObject("select step from dumps where id = ?", String.class, id)).isEqualTo(step.id());
                }
                // done with: out of the queue, so the next case's claim takes its own dump only
                db.update("update dumps set next_attempt_at = null, lease_owner = null where id = ?", id);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void thePeriodicLookTakesWhatFallsDueBeforeTheMiddleOfTheNextIntervalAndALookAfterAStepOnlyWhatIsDue(String kind) throws Exception {
        DataSource ds = open(kind);
        Queue queue = new Queue(ds, "a", LEASE, 500, clock::get);
        queue.receive("soon", "soon.sql", "/custody/soon.sql");
        queue.receive("later", "later.sql", "/custody/later.sql");
        // both are due at the clock's time: one falls due 300 ms on, the other 700 ms on
        new TestStore(ds).update("update dumps set next_attempt_at = ? where id = 'soon'", clock.get() + 300);
        new TestStore(ds).update("update dumps set next_attempt_at = ? where id = 'later'", clock.get() + 700);
        assertThat(queue.claimDue()).as("after a step: only what is due").isEmpty();
        assertThat(queue.claimDue(null)).isEmpty();
        assertThat(queue.claimDue(true)).extracting(r -> r.get("id")).containsExactly("soon");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void aTransitionByANodeThatLostTheLeaseIsRefused(String kind) throws Exception {
        DataSource ds = open(kind);
        StoreNode a = node(ds, "a");
        StoreNode b = node(ds, "b");
        Exchange byA = claimed(a, "x", "sha-x");
        assertThat(b.claimDue()).as("held by a").isEmpty();
        clock.addAndGet(LEASE + 1);
        Map<String, Object> row = b.claimDue().get(0);
        Exchange byB = new DefaultExchange(camel);
        b.load(byB, row);
        assertThatThrownBy(() -> a.go(byA, "admitted")).isInstanceOf(IllegalTransitionException.class);
        byB.setProperty("dumpSha256", "sha-x");
        b.go(byB, "admitted");
        assertThat(new TestStore(ds).queryForObject("select step from dumps where id = 'x'", String.class)).isEqualTo("admitted");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void aNodeStalledWhileAnotherTookItsDumpIsStoppedAtTheFenceBeforeItCallsThePlatform(String kind) throws Exception {
        DataSource ds = open(kind);
        StoreNode a = node(ds, "a");
        StoreNode b = node(ds, "b");
        claimed(a, "f", "sha-f");
        a.fence("f", "f.sql");
        clock.addAndGet(LEASE + 1);
        assertThat(b.claimDue()).extracting(r -> r.get("id")).containsExactly("f");
        // a wakes up (a paused JVM) and is about to call create: refused, before the call
        assertThatThrownBy(() -> a.fence("f", "f.sql")).isInstanceOf(IllegalTransitionException.class)
                .hasMessageContaining("no longer holds it");
        b.fence("f", "f.sql");
        // and its heartbeat lets go of it instead of keeping a hold it lost
        a.renewLeases();
        clock.addAndGet(LEASE / 2);
        b.renewLeases();
        assertThat(new TestStore(ds).queryForObject("select lease_owner from dumps where id = 'f'", String.class)).isEqualTo("b");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void uploadedPiecesAreKeptPerRequestAndOnlyTheNodeHoldingTheDumpRecordsThem(String kind) throws Exception {
        DataSource ds = open(kind);
        StoreNode a = node(ds, "a");
        StoreNode b = node(ds, "b");
        claimed(a, "u", "sha-u");
        a.uploaded("u", 7, 0, 100);
        a.uploaded("u", 7, 200, 300);
        a.uploaded("u", 7, 100, 200);
        assertThat(a.uploaded("u", 7).toString()).isEqualTo("0-300");
        assertThat(a.uploaded("u", 8).bytes()).as("another request: its own file, nothing done").isZero();
        clock.addAndGet(LEASE + 1);
        assertThat(b.claimDue()).extracting(r -> r.get("id")).containsExactly("u");
        // a stalled while b took the dump (and may have emptied the remote file): a's late piece is not recorded
        assertThatThrownBy(() -> a.uploaded("u", 7, 300, 400)).isInstanceOf(IllegalTransitionException.class);
        assertThat(b.uploaded("u", 7).toString()).isEqualTo("0-300");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void aDumpTakenWithoutItsSettingsByACrashGetsThemWhenRecorded(String kind) throws Exception {
        DataSource ds = open(kind);
        Path staging = tmp.resolve("drop/.courier");
        Files.createDirectories(staging.resolve("cut"));
        Files.writeString(staging.resolve("cut/acme.sql"), "SET x = 1;");
        Files.writeString(tmp.resolve("drop/acme.sql.properties"), "target = 16.0");
        node(ds, "a").recover(staging, tmp.resolve("data/dumps"), true);
        assertThat(staging.resolve("cut/acme.sql.properties")).hasContent("target = 16.0");
        assertThat(tmp.resolve("drop/acme.sql.properties")).doesNotExist();
    }

    /**
     * A burst on one node, no stall: dumps taken, fenced and let go again and again by four workers while the heartbeat
     * renews all the time. The heartbeat never counts a dump let go (or taken again) meanwhile as lost, and a fence
     * never refuses a dump its worker holds.
     */
    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void aBurstWithoutAStallNeverLosesAHoldTheHeartbeatAndTheReleaseDoNotRace(String kind) throws Exception {
        DataSource ds = open(kind);
        StoreNode a = node(ds, "a");
        for (int i = 0; i < 40; i++) {
            a.receive("d" + i, "d" + i + ".sql", "/custody/d" + i + ".sql");
        }
        java.util.concurrent.atomic.AtomicInteger lost = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger cycles = new java.util.concurrent.atomic.AtomicInteger();
        java.util.Set<String> inWork = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        long end = System.nanoTime() + 3_000_000_000L;
        Thread heartbeat = new Thread(() -> {
            while (System.nanoTime() < end) {
                try {
                    lost.addAndGet(a.renewLeases());
                } catch (Exception e) {
                    failures.add(e);
                }
            }
        });
        List<Thread> workers = new java.util.ArrayList<>();
        for (int w = 0; w < 4; w++) {
            workers.add(new Thread(() -> {
                while (System.nanoTime() < end) {
                    try {
                        for (Map<String, Object> row : a.claimDue()) {
                            String id = (String) row.get("id");
                            assertThat(inWork.add(id)).as("%s taken while a worker has it", id).isTrue();
                            a.fence(id, id + ".sql");
                            inWork.remove(id);
                            a.release(id);
                            cycles.incrementAndGet();
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }
            }));
        }
        heartbeat.start();
        workers.forEach(Thread::start);
        heartbeat.join();
        for (Thread t : workers) {
            t.join();
        }
        assertThat(failures).isEmpty();
        assertThat(cycles.get()).as("the burst went round: every dump, again and again").isGreaterThan(40);
        assertThat(lost.get()).as("holds lost without a stall").isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void aLeaseKeptByItsHeartbeatIsNotTakenAndARestartGivesItsOwnLeasesUp(String kind) throws Exception {
        DataSource ds = open(kind);
        StoreNode a = node(ds, "a");
        claimed(a, "y", "sha-y");
        for (int i = 0; i < 5; i++) {
            clock.addAndGet(LEASE / 2);
            a.renewLeases();
            assertThat(node(ds, "b").claimDue()).isEmpty();
        }
        StoreNode restarted = node(ds, "a");
        restarted.recover(tmp.resolve("no-staging"), tmp.resolve("no-custody"), true);
        assertThat(restarted.claimDue()).extracting(r -> r.get("id")).containsExactly("y");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void aNodeNeverTakesADumpItStillWorksOnWhenItsLeaseRanOutInAStall(String kind) throws Exception {
        DataSource ds = open(kind);
        StoreNode a = node(ds, "a");
        claimed(a, "stalled", "sha-s");
        clock.addAndGet(LEASE + 1);
        assertThat(a.claimDue()).as("still worked on by this node").isEmpty();
        a.release("stalled");
        assertThat(a.claimDue()).extracting(r -> r.get("id")).containsExactly("stalled");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void aDumpInCustodyWithNoRowIsTakenUpAgainWhenTheStoreWasLost(String kind) throws Exception {
        DataSource ds = open(kind);
        Path custody = tmp.resolve("data/dumps");
        Files.createDirectories(custody.resolve("lost-row"));
        Files.writeString(custody.resolve("lost-row/kept.sql"), "SET x = 1;");
        node(ds, "a").recover(tmp.resolve("drop/.courier"), custody, true);
        assertThat(new TestStore(ds).queryForObject("select step from dumps where id = 'lost-row'", String.class)).isEqualTo("received");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void aDeliveryNameIsChosenByOneDumpOnly(String kind) throws Exception {
        DataSource ds = open(kind);
        StoreNode dumps = node(ds, "a");
        Exchange first = claimed(dumps, "n1", "sha-n1");
        Exchange second = claimed(dumps, "n2", "sha-n2");
        assertThat(dumps.claimName(first, "upgraded_backup.zip")).isTrue();
        assertThat(dumps.claimName(second, "upgraded_backup.zip")).isFalse();
        assertThat(dumps.claimName(second, "upgraded_backup-10535.zip")).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void theStoreHoldsOneUnfinishedDumpPerSha256(String kind) throws Exception {
        DataSource ds = open(kind);
        StoreNode dumps = node(ds, "a");
        Exchange first = claimed(dumps, "first", "same");
        dumps.go(first, "admitted");
        dumps.go(first, "created");
        for (String copy : List.of("second", "third", "fourth")) {
            Exchange ex = claimed(dumps, copy, "same");
            assertThatThrownBy(() -> dumps.go(ex, "admitted")).isInstanceOf(DuplicateDumpException.class)
                    .hasMessageContaining("already in flight as first.sql, request 10534, step created");
            ex.setProperty("lastError", "duplicate");
            dumps.go(ex, "failed");
        }
        dumps.go(first, "failed");
        Exchange again = claimed(dumps, "again", "same");
        dumps.go(again, "admitted");
        assertThat(new TestStore(ds).queryForList("select step from dumps order by id", String.class))
                .containsExactly("admitted", "failed", "failed", "failed", "failed");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void parkingBacksOffAndALifetimeOfAYearIsKeptIn64Bits(String kind) throws Exception {
        DataSource ds = open(kind);
        StoreNode dumps = node(ds, "a");
        Exchange ex = claimed(dumps, "p", "sha-p");
        ex.setProperty("lastError", "HTTP 503");
        long start = clock.get();
        dumps.go(ex, "parked");
        TestStore db = new TestStore(ds);
        assertThat(db.queryForObject("select next_attempt_at from dumps", Long.class)).isEqualTo(start + 120_000);
        assertThat(db.queryForObject("select attempts from dumps", Integer.class)).isEqualTo(1);
        dumps.release("p");
        assertThat(dumps.claimDue()).as("not due before its back-off").isEmpty();
        clock.addAndGet(120_001);
        assertThat(dumps.claimDue()).hasSize(1);
        assertThat(dumps.lifetimeOver(start)).isFalse();
        clock.addAndGet(YEAR);
        assertThat(dumps.lifetimeOver(start)).isTrue();
        assertThat(db.queryForObject("select received_millis + " + YEAR + " from dumps", Long.class)).isEqualTo(start + YEAR);
        assertThat(dumps.retries.parkedFor(0)).isEqualTo(120_000);
        assertThat(new RetryPolicy(2, 100, 5_000).parkedFor(0)).isEqualTo(400);
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void aDumpTakenFromTheDropFolderButNotRecordedIsRecordedAtStart(String kind) throws Exception {
        DataSource ds = open(kind);
        Path staging = tmp.resolve("drop/.courier");
        Files.createDirectories(staging.resolve("orphan"));
        Files.writeString(staging.resolve("orphan/lost.sql"), "SET x = 1;");
        Files.writeString(staging.resolve("orphan/lost.sql.properties"), "target = 16.0");
        Files.createDirectories(staging.resolve("empty"));
        node(ds, "a").recover(staging, tmp.resolve("data/dumps"), true);
        assertThat(new TestStore(ds).queryForObject("select file_name from dumps where id = 'orphan'", String.class))
                .isEqualTo("lost.sql");
        assertThat(staging.resolve("empty")).doesNotExist();
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void aNodeStartingBesideALeaderLeavesAFreshlyTakenDumpToIt(String kind) throws Exception {
        DataSource ds = open(kind);
        Path staging = tmp.resolve("drop/.courier");
        Files.createDirectories(staging.resolve("being-taken"));
        Files.writeString(staging.resolve("being-taken/new.sql"), "SET x = 1;");
        node(ds, "b").recover(staging, tmp.resolve("data/dumps"), false);
        assertThat(new TestStore(ds).queryForObject("select count(*) from dumps", Integer.class)).isZero();
        assertThat(staging.resolve("being-taken/new.sql")).exists();
    }
}

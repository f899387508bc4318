package com.odooupgradecourier.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;

import com.odooupgradecourier.TestPostgres;
import com.odooupgradecourier.restore.RestoreSettings;
import com.odooupgradecourier.restore.Restorer;
import com.odooupgradecourier.store.Store;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The store's side of rehearsals: one per fire across nodes, one at a time per source; the report; the missed fires. */
class RehearsalsTest {
    @TempDir
    Path tmp;

    private final DefaultCamelContext camel = new DefaultCamelContext();
    private final AtomicLong clock = new AtomicLong(1_700_000_000_000L);
    private final Source acme = new Source("acme", "127.0.0.1", "5432", "acme_prod", "", "secret", null, "17.0", "", "test",
            "0 0 2 * * ?", 2, false);

    private Rehearsals node(DataSource store, String name) {
        Restorer none = new Restorer(new RestoreSettings("", "", "", "", null, null, "${stem}_${target}", 1, null, Duration.ofHours(1)),
                tmp, null, null);
        return new Rehearsals(store, List.of(acme), none, tmp.resolve("dumps"), name, Duration.ofHours(1), new SimpleMeterRegistry(),
                clock::get);
    }

    private Exchange fire(long scheduled) {
        Exchange ex = new DefaultExchange(camel);
        ex.setProperty("source", "acme");
        ex.setProperty("scheduledMillis", scheduled);
        return ex;
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void twoNodesFiringTheSameScheduleMakeOneRehearsalAndAFireWhileItRunsIsSkipped(String kind) throws Exception {
        DataSource store = kind.equals("sqlite") ? Store.open("", "", "", tmp.resolve(kind))
                : Store.open(TestPostgres.freshUrl(), TestPostgres.user(), TestPostgres.password(), tmp);
        Rehearsals a = node(store, "a");
        Rehearsals b = node(store, "b");
        Exchange byA = fire(1000);
        Exchange byB = fire(1000);
        a.begin(byA);
        b.begin(byB);
        assertThat(byA.getProperty("rehearsalSkipped")).isNull();
        assertThat(byA.getProperty("fileName", String.class)).startsWith("acme-").endsWith(".dump");
        assertThat(byB.getProperty("rehearsalSkipped", String.class)).contains("still runs");
        // the next fire while the first runs: skipped, saying which one runs
        Exchange next = fire(2000);
        a.begin(next);
        assertThat(next.getProperty("rehearsalSkipped", String.class)).contains("still runs (dumping the database)");
        // once it ended, a fire of the same time (a catch-up racing the schedule) is still refused: each fire once
        byA.setProperty("lastError", "x");
        a.dumpFailed(byA.getProperty("rehearsalId", String.class), "pg_dump failed", "dump-failed");
        Exchange again = fire(1000);
        b.begin(again);
        assertThat(again.getProperty("rehearsalSkipped", String.class)).contains("was rehearsed already");
        Exchange later = fire(3000);
        b.begin(later);
        assertThat(later.getProperty("rehearsalSkipped")).isNull();
    }

    @Test
    void theRestoreNameIsTheDatabaseTheAimTheTargetAndTheDayAndFitsPostgres() {
        assertThat(Rehearsals.restoreName(acme, "20250301")).isEqualTo("acme_prod_test_17_0_20250301");
        Source longName = new Source("x", "h", "5432", "A".repeat(63), "", "", null, "saas~17.2", "", "test", "0 0 2 * * ?", 1, false);
        assertThat(Rehearsals.restoreName(longName, "20250301")).hasSizeLessThanOrEqualTo(60).endsWith("_test_saas_17_2_20250301");
    }

    @Test
    void missedFiresAreTheLatestOneOnlyAndNoneWhenNothingWasMissed() {
        long last = ZonedDateTime.parse("2025-03-01T02:00:00Z").toInstant().toEpochMilli();
        long fiveDaysLater = last + Duration.ofDays(5).plusHours(1).toMillis();
        long latest = Rehearsals.lastFireBetween("0 0 2 * * ?", last, fiveDaysLater);
        assertThat(java.time.Instant.ofEpochMilli(latest).toString()).isEqualTo("2025-03-06T02:00:00Z");
        assertThat(Rehearsals.lastFireBetween("0 0 2 * * ?", last, last + Duration.ofHours(23).toMillis())).isNull();
    }

    @Test
    void theReportCountsItsWarningsAndNamesItsHeadings() {
        UpgradeReport r = UpgradeReport.of("<html><body><h1>Upgrade report</h1><h2>Custom <b>views</b> &amp; fields</h2>"
                + "<div class=\"alert alert-warning\">a view was disabled</div><p class='text-warning small'>x</p>"
                + "<div class=\"alert alert-info\">fine</div><h4>not a heading we keep</h4></body></html>");
        assertThat(r.warnings()).isEqualTo(2);
        assertThat(r.headings()).containsExactly("Upgrade report", "Custom views & fields");
    }

    @Test
    void aSourceNeverShowsItsPassword() {
        assertThat(acme.toString()).doesNotContain("secret");
        assertThat(acme.shown().toString()).doesNotContain("secret");
    }

    /** A node that stopped while pg_dump ran: at its next start the rehearsal ends as interrupted and nothing half-made stays. */
    @Test
    void aRehearsalCutShortByAStopEndsInterruptedAndItsHalfMadeDumpIsDeleted() throws Exception {
        DataSource store = Store.open("", "", "", tmp.resolve("stopped"));
        Rehearsals a = node(store, "a");
        Exchange fired = fire(5000);
        a.begin(fired);
        String dumpId = fired.getProperty("dumpId", String.class);
        Path half = java.nio.file.Files.createDirectories(tmp.resolve("dumps").resolve(dumpId)).resolve("." + fired.getProperty("fileName") + ".part");
        java.nio.file.Files.writeString(half, "PGDMP half of it");

        assertThat(node(store, "a").interruptedAtStart()).isOne();
        assertThat(tmp.resolve("dumps").resolve(dumpId)).doesNotExist();
        assertThat(node(store, "a").interruptedAtStart()).as("once").isZero();
    }
}

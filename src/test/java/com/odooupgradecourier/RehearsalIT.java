package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;
import static com.odooupgradecourier.TestPostgres.maintenanceDb;
import static com.odooupgradecourier.TestPostgres.dbUrl;
import static com.odooupgradecourier.TestPostgres.query;
import static com.odooupgradecourier.TestPostgres.update;
import static com.odooupgradecourier.TestPostgres.databaseExists;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rehearsals from a live database, against the real PostgreSQL server of the tests (the source, the restores, and the
 * store), pg_dump, the simulator over real HTTP, and a Quartz schedule made short: fires dump, upgrade, restore and keep
 * the newest databases; a fire while one runs is skipped; a missed fire is rehearsed once; a production upgrade waits for
 * a test of its source.
 */
class RehearsalIT {
    @TempDir
    Path tmp;

    private CourierHarness courier;
    private final List<String> databases = new ArrayList<>();
    private final String run = "r" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);

    @AfterEach
    void tearDown() throws Exception {
        if (courier != null) {
            courier.close();
        }
        for (String db : databases) {
            update(maintenanceDb(), "drop database if exists " + db + " with (force)");
        }
    }

    /** A live database: a table partner of {@code rows} rows. */
    private String liveDatabase(int rows) throws Exception {
        String db = "live_" + run;
        databases.add(db);
        update(maintenanceDb(), "create database " + db);
        update(db, "create table partner (id int primary key, name text)");
        update(db, "insert into partner select i, 'partner ' || i from generate_series(1, " + rows + ") i");
        return db;
    }

    private CourierHarness rehearsing(String db, String cron, int keep) throws Exception {
        Path filestore = Files.createDirectories(tmp.resolve("live-filestore/ab"));
        Files.writeString(filestore.resolve("abcdef"), "an attachment");
        courier = new CourierHarness(tmp.resolve("courier"))
                .with("courier.store.url", TestPostgres.freshUrl())
                .with("courier.store.user", TestPostgres.user())
                .with("courier.store.password", TestPostgres.password())
                .with("courier.restore.url", TestPostgres.url())
                .with("courier.restore.user", TestPostgres.user())
                .with("courier.restore.password", TestPostgres.password())
                .with("courier.restore.filestore-dir", tmp.resolve("filestore").toString())
                .with("courier.sources", "acme")
                .with("courier.source.acme.url", dbUrl(db))
                .with("courier.source.acme.user", TestPostgres.user())
                .with("courier.source.acme.password", TestPostgres.password())
                .with("courier.source.acme.filestore", tmp.resolve("live-filestore").toString())
                .with("courier.source.acme.schedule", cron)
                .with("courier.source.acme.keep", String.valueOf(keep));
        return courier;
    }

    @Test
    void aCronFireDumpsUpgradesRestoresAndKeepsTheNewestDatabasesAndAFireWhileOneRunsIsSkipped() throws Exception {
        String db = liveDatabase(40);
        // a bystander with a rehearsal database's kind of name, never the courier's: never dropped
        String bystander = db + "_test_17_0_19990101";
        databases.add(bystander);
        update(maintenanceDb(), "create database " + bystander);
        try (LogLines log = new LogLines()) {
            rehearsing(db, "0/2 * * * * ?", 1).start();
            await().atMost(Duration.ofSeconds(120)).until(() -> courier.store().queryForObject(
                    "select count(*) from rehearsals where outcome = 'restored'", Integer.class) >= 2);
            List<String> made = courier.store().queryForList(
                    "select restored_to from rehearsals where outcome = 'restored' order by started_millis", String.class);
            databases.addAll(made);
            String today = java.time.LocalDate.now().format(java.time.format.DateTimeFormatter.BASIC_ISO_DATE);
            assertThat(made.get(0)).startsWith(db + "_test_17_0_" + today);
            // the newest is kept, restored from the live database with its filestore; the older one dropped
            await().atMost(Duration.ofSeconds(30)).until(() -> !databaseExists(made.get(0)));
            String newest = made.get(made.size() - 1);
            assertThat(databaseExists(newest)).isTrue();
            assertThat(query(newest, "select count(*) from partner")).isEqualTo("40");
            assertThat(tmp.resolve("filestore/" + newest + "/ab/abcdef")).hasContent("an attachment");
            assertThat(databaseExists(bystander)).as("a database the courier did not make").isTrue();
            // each part of the rehearsal is timed, and the report summed up
            Map<String, Object> first = courier.store().queryForMap("select * from rehearsals where restored_to = ?", made.get(0));
            for (String k : List.of("dump_seconds", "upload_seconds", "platform_seconds", "download_seconds", "restore_seconds", "total_seconds")) {
                assertThat(first.get(k)).as(k).isNotNull();
            }
            assertThat(first.get("headings")).asString().contains("Upgrade notes").contains("Upgrade report: custom views");
            assertThat(first.get("warnings")).as("warnings counted from the report").isNotNull();
            // fires while a rehearsal ran (every 2 s, a rehearsal takes longer) were skipped, each with one line
            assertThat(log.containing("acme: the scheduled rehearsal is skipped: the rehearsal begun at")).isNotEmpty();
            // nothing of the source in the drop folder, nothing left in custody but what is on its way
            assertThat(courier.drop).isEmptyDirectory();
            // the history: JSON and the page; the metric
            String json = get("/sources").body();
            assertThat(json).contains("\"source\":\"acme\"").contains("\"outcome\":\"restored\"").contains("\"estimate\"")
                    .doesNotContain(TestPostgres.password() + "\"");
            assertThat(get("/sources.html").body()).contains("<h2>acme</h2>").contains("A production upgrade would take about");
            assertThat(get("/observe/metrics").body()).containsPattern("courier_rehearsal_seconds_count\\{[^}]*source=\"acme\"[^}]*\\} [1-9]");
        }
        // the history on the status page, in a real browser, at a desktop's and a phone's size
        Tools.require("chromium");
        try (Browser browser = new Browser(tmp.resolve("chromium"))) {
            for (int[] size : new int[][] {{1400, 900}, {390, 844}}) {
                browser.open(courier.http() + "/", size[0], size[1], size[0] < 500);
                assertThat(browser.eval("document.querySelectorAll('#sources table.rehearsals tbody tr').length").asInt())
                        .isGreaterThanOrEqualTo(2);
                browser.eval("document.getElementById('rehearsals').scrollIntoView()");
                browser.screenshot(java.nio.file.Path.of("target", "screenshots", "rehearsals-" + size[0] + "x" + size[1] + ".png"));
                assertThat(browser.eval("document.documentElement.scrollWidth <= window.innerWidth").asBoolean())
                        .as("no horizontal scrolling").isTrue();
            }
        }
    }

    @Test
    void aProductionDumpOfTheSourceIsHeldUntilATestOfItIsDeliveredThenItGoes() throws Exception {
        String db = liveDatabase(10);
        // the schedule: far in the future; the test comes from a missed fire below, so the hold is seen first
        rehearsing(db, "0 0 3 1 1 ? 2099", 3).start();
        Path staging = Files.createDirectories(tmp.resolve("staging"));
        Path prod = Files.writeString(staging.resolve("acme-prod.sql"), "-- PostgreSQL database dump\nCREATE TABLE x (a int);\n"
                + "-- PostgreSQL database dump complete\n");
        Files.writeString(staging.resolve("acme-prod.sql.properties"), "aim = production\nsource = acme\nrestore = false\n");
        courier.dropFile(staging.resolve("acme-prod.sql.properties"));
        courier.dropFile(prod);
        await().atMost(Duration.ofSeconds(30)).until(() -> "held".equals(step("acme-prod.sql")));
        assertThat(courier.store().queryForObject("select last_error from dumps where file_name = 'acme-prod.sql'", String.class))
                .contains("no test of acme to 17.0");
        assertThat(get("/").body()).contains("held").contains("no test of acme to 17.0");

        // a test of acme is delivered (a rehearsal): the production upgrade goes on by itself
        courier.store().update("insert into rehearsals (id, source, scheduled_millis, started_millis, outcome) values ('old', 'acme', ?, ?, 'restored')",
                System.currentTimeMillis() - 3_600_000L * 24 * 400, System.currentTimeMillis() - 3_600_000L * 24 * 400);
        courier.stopCourier();
        courier.with("courier.source.acme.schedule", "0 0 3 * * ?").start();
        await().atMost(Duration.ofSeconds(90)).until(() -> "delivered".equals(step("acme-prod.sql")));
        databases.addAll(courier.store().queryForList("select restored_to from rehearsals where restored_to is not null", String.class));
        assertThat(courier.store().queryForObject("select detail from dump_events e join dumps d on d.id = e.dump_id "
                + "where d.file_name = 'acme-prod.sql' and e.transition = 'released'", String.class)).contains("after the test acme-");
    }

    @Test
    void missedFiresAfterARestartAreRehearsedOnceNotOncePerFire() throws Exception {
        String db = liveDatabase(5);
        try (LogLines log = new LogLines()) {
            rehearsing(db, "0 0 * * * ?", 3).start();
            // the last rehearsal was five hours ago: five hourly fires were missed while the service was stopped
            long fiveHoursAgo = System.currentTimeMillis() - 5 * 3_600_000L;
            courier.store().update("insert into rehearsals (id, source, scheduled_millis, started_millis, outcome) values ('old', 'acme', ?, ?, 'restored')",
                    fiveHoursAgo, fiveHoursAgo);
            courier.stopCourier();
            courier.start();
            await().atMost(Duration.ofSeconds(90)).until(() -> courier.store().queryForObject(
                    "select count(*) from rehearsals where id <> 'old' and outcome is not null", Integer.class) == 1);
            databases.addAll(courier.store().queryForList("select restored_to from rehearsals where restored_to is not null", String.class));
            assertThat(courier.store().queryForObject("select count(*) from rehearsals where id <> 'old'", Integer.class)).isEqualTo(1);
            assertThat(log.containing("was missed (no node ran the schedule): rehearsed once now")).hasSize(1);
        }
    }

    // ------------------------------------------------------------------ helpers

    private String step(String fileName) {
        List<String> steps = courier.store().queryForList("select step from dumps where file_name = ?", String.class, fileName);
        return steps.isEmpty() ? null : steps.get(0);
    }






    private HttpResponse<String> get(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(courier.http() + path)).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }
}

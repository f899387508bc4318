package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;
import static com.odooupgradecourier.TestPostgres.maintenanceDb;
import static com.odooupgradecourier.TestPostgres.dbUrl;
import static com.odooupgradecourier.TestPostgres.query;
import static com.odooupgradecourier.TestPostgres.update;
import static com.odooupgradecourier.TestPostgres.databaseExists;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
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
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The restore after delivery, against the real PostgreSQL server of the tests and its real client programs: a real
 * pg_dump, dropped as an Odoo zip (or a custom-format dump), upgraded by the simulator, delivered and restored into a
 * database the courier creates; never over an existing one; a failure contained.
 */
class RestoreIT {
    @TempDir
    Path tmp;

    private CourierHarness courier;
    /** Every database this test made (or the courier made for it): dropped at the end. */
    private final List<String> databases = new ArrayList<>();
    private final String run = "t" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);

    @AfterEach
    void tearDown() throws Exception {
        if (courier != null) {
            courier.close();
        }
        for (String db : databases) {
            tool(List.of("dropdb", "--if-exists", "--maintenance-db=" + maintenanceDb(), db), null);
        }
    }

    private CourierHarness restoring() throws Exception {
        courier = new CourierHarness(tmp.resolve("courier"))
                .with("courier.restore.url", TestPostgres.url())
                .with("courier.restore.user", TestPostgres.user())
                .with("courier.restore.password", TestPostgres.password())
                .with("courier.restore.filestore-dir", tmp.resolve("filestore").toString());
        return courier;
    }

    @Test
    void anOdooZipIsRestoredIntoANewDatabaseWithItsFilestoreAndTheSameNameAgainGoesToASecondOne() throws Exception {
        restoring().start();
        Path zip = odooZip(tmp.resolve("staging/acme" + run + ".zip"), sourceDump(50, false), Map.of("ab/abcdef", "an attachment"));
        Path again = Files.copy(zip, tmp.resolve("acme-again.zip"));
        courier.dropFile(zip);

        String db = "acme" + run + "_17_0";
        databases.add(db);
        databases.add(db + "_2");
        awaitStep("acme" + run + ".zip", "delivered", 1);
        assertThat(courier.store().queryForObject("select restored_to from dumps", String.class)).isEqualTo(db);
        assertThat(query(db, "select count(*) from partner")).isEqualTo("50");
        assertThat(query(db, "select target from courier_upgrade_marker")).isEqualTo("17.0");
        assertThat(tmp.resolve("filestore/" + db + "/ab/abcdef")).hasContent("an attachment");
        assertThat(courier.out.resolve("upgraded_acme" + run + ".zip")).exists();
        assertThat(courier.data.resolve("downloads")).isEmptyDirectory();
        // where the database and its filestore are, on the page and in the store
        assertThat(get("/").body()).contains("restored to the database " + db + ", filestore " + tmp.resolve("filestore/" + db));
        assertThat(courier.store().queryForObject("select filestore_path from dumps", String.class))
                .isEqualTo(tmp.resolve("filestore/" + db).toString());

        // the partner works in the first database; the same dump name upgraded again never touches it
        update(db, "insert into partner (id, name) values (999, 'written by the partner')");
        courier.dropFile(Files.move(again, Files.createDirectories(tmp.resolve("staging2")).resolve("acme" + run + ".zip")));
        awaitStep("acme" + run + ".zip", "delivered", 2);
        assertThat(courier.store().queryForList("select restored_to from dumps order by received_millis", String.class))
                .containsExactly(db, db + "_2");
        assertThat(query(db, "select name from partner where id = 999")).isEqualTo("written by the partner");
        assertThat(query(db, "select count(*) from partner")).isEqualTo("51");
        assertThat(query(db + "_2", "select count(*) from partner")).isEqualTo("50");
        assertThat(tmp.resolve("filestore/" + db + "_2/ab/abcdef")).hasContent("an attachment");

        String metrics = get("/observe/metrics").body();
        assertThat(metrics).containsPattern("courier_restores_total\\{[^}]*outcome=\"restored\"[^}]*\\} 2\\.0");
    }

    @Test
    void aCustomFormatDumpIsRestoredWithPgRestoreAndItsOwnSettingsNameTheDatabase() throws Exception {
        restoring().with("courier.restore.jobs", "2").start();
        Path dump = Files.createDirectories(tmp.resolve("staging")).resolve("shop" + run + ".dump");
        Files.copy(sourceDump(30, true), dump);
        String db = "shop_" + run + "_custom";
        databases.add(db);
        Files.writeString(tmp.resolve("staging/shop" + run + ".dump.properties"), "restore-name = " + db + "\n");
        courier.dropFile(tmp.resolve("staging/shop" + run + ".dump.properties"));
        courier.dropFile(dump);

        awaitStep("shop" + run + ".dump", "delivered", 1);
        assertThat(courier.store().queryForObject("select restored_to from dumps", String.class)).isEqualTo(db);
        assertThat(query(db, "select count(*) from partner")).isEqualTo("30");
    }

    @Test
    void aDumpWhoseSqlFailsHalfWayEndsRestoreFailedWithTheErrorAndNoDatabaseLeftAndItsArchiveDelivered() throws Exception {
        restoring().start();
        String sql = "CREATE TABLE half (x int);\nINSERT INTO half VALUES (1);\nSELECT no_such_function_in_the_dump();\n"
                + "CREATE TABLE never (x int);\n";
        Path zip = odooZip(tmp.resolve("staging/broken" + run + ".zip"), write(tmp.resolve("broken.sql"), sql), Map.of());
        courier.dropFile(zip);
        String db = "broken" + run + "_17_0";
        databases.add(db);

        awaitStep("broken" + run + ".zip", "restore-failed", 1);
        Map<String, Object> row = courier.store().queryForMap("select * from dumps");
        assertThat((String) row.get("last_error")).contains("no_such_function_in_the_dump").contains("psql")
                .as("the statement psql repeats is not kept").doesNotContain("LINE 1");
        assertThat(row.get("restored_to")).isNull();
        assertThat(databaseExists(db)).as("the database it created is dropped").isFalse();
        assertThat(courier.out.resolve("upgraded_broken" + run + ".zip")).exists();
        assertThat(get("/").body()).contains("restore-failed").contains("no_such_function_in_the_dump");
    }

    @Test
    void aBackslashCommandInTheArchiveNeverRunsNeitherAShellNorAnotherDatabase() throws Exception {
        restoring().start();
        String other = "other_" + run;
        databases.add(other);
        tool(List.of("createdb", "--maintenance-db=" + maintenanceDb(), other), null);
        Path ran = tmp.resolve("the-shell-ran");
        String sql = "CREATE TABLE public.t (x int);\n\\! touch " + ran + "\n\\connect " + other + "\n"
                + "CREATE TABLE public.written_elsewhere (x int);\n";
        courier.dropFile(odooZip(tmp.resolve("staging/evil" + run + ".zip"), write(tmp.resolve("evil.sql"), sql), Map.of()));
        databases.add("evil" + run + "_17_0");

        awaitStep("evil" + run + ".zip", "restore-failed", 1);
        assertThat(courier.store().queryForObject("select last_error from dumps", String.class)).contains("restricted");
        assertThat(ran).doesNotExist();
        assertThat(query(other, "select count(*) from pg_tables where tablename = 'written_elsewhere'")).isEqualTo("0");
        assertThat(databaseExists("evil" + run + "_17_0")).isFalse();
    }

    @Test
    void aFailedRestoreIsRestoredAgainByARetryOnceTheCauseIsGone() throws Exception {
        // the filestore folder cannot be made (a file is in its way): the restore fails after its database was made
        Path filestore = write(tmp.resolve("filestore"), "in the way");
        restoring().start();
        Path zip = odooZip(tmp.resolve("staging/retried" + run + ".zip"), sourceDump(5, false), Map.of("f/1", "one"));
        courier.dropFile(zip);
        String db = "retried" + run + "_17_0";
        databases.add(db);
        awaitStep("retried" + run + ".zip", "restore-failed", 1);
        assertThat(databaseExists(db)).isFalse();

        Files.delete(filestore);
        String id = courier.store().queryForObject("select id from dumps", String.class);
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(courier.http() + "/requests/" + id + "/retry"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains("\"step\":\"restoring\"");
        awaitStep("retried" + run + ".zip", "delivered", 1);
        assertThat(query(db, "select count(*) from partner")).isEqualTo("5");
        assertThat(tmp.resolve("filestore/" + db + "/f/1")).hasContent("one");
        assertThat(courier.simulator.requestCount()).as("nothing asked of the platform again").isEqualTo(1);
    }

    @Test
    void restoreConfiguredWithoutItsProgramsRefusesToStartInOneLine() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("no-tools"));
        // the harness is made outside: a missing server would be a failed assumption, never the exception checked here
        CourierHarness withoutTools = restoring().with("courier.restore.bin-dir", empty.toString());
        assertThatThrownBy(withoutTools::start)
                .hasMessageContaining("PostgreSQL's client programs [psql, pg_restore] are not in courier.restore.bin-dir");
    }

    /**
     * The PostgreSQL server goes away while a restore runs (a proxy in front of it drops every connection), and comes back:
     * a fault that may pass. The restore waits, the database it had made is dropped once the server answers again, and the
     * restore goes into the same name: nothing half is left, no _2.
     */
    @Test
    void aServerThatGoesAwayDuringARestoreIsWaitedForAndTheRestoreGoesIntoTheSameName() throws Exception {
        URI pg = URI.create(TestPostgres.url().substring("jdbc:".length()));
        try (TcpProxy proxy = new TcpProxy(pg.getHost(), pg.getPort() < 0 ? 5432 : pg.getPort())) {
            restoring().with("courier.restore.url", "jdbc:postgresql://127.0.0.1:" + proxy.port() + pg.getPath()).start();
            String sql = "CREATE TABLE public.partner (id int);\nINSERT INTO public.partner SELECT generate_series(1, 10);\n"
                    + "SELECT pg_sleep(5);\nCREATE TABLE public.after_the_pause (x int);\n";
            courier.dropFile(odooZip(tmp.resolve("staging/gone" + run + ".zip"), write(tmp.resolve("gone.sql"), sql), Map.of("ab/c", "c")));
            String db = "gone" + run + "_17_0";
            databases.add(db);
            databases.add(db + "_2");
            await().atMost(Duration.ofSeconds(60)).until(() -> databaseExists(db));
            proxy.cut();
            await().atMost(Duration.ofSeconds(30)).until(() -> get("/requests").body().contains("waiting: "));
            assertThat(courier.store().queryForObject("select step from dumps", String.class)).isEqualTo("restoring");
            proxy.restore();
            awaitStep("gone" + run + ".zip", "delivered", 1);
            assertThat(courier.store().queryForObject("select restored_to from dumps", String.class)).isEqualTo(db);
            assertThat(databaseExists(db + "_2")).as("the same name, no second database").isFalse();
            assertThat(query(db, "select count(*) from partner")).isEqualTo("10");
            assertThat(query(db, "select count(*) from pg_tables where tablename = 'after_the_pause'")).isEqualTo("1");
            assertThat(courier.store().queryForObject("select restore_role from dumps", String.class)).as("its role dropped").isNull();
        }
    }

    /**
     * A program that hangs is ended at courier.restore.timeout and its database dropped; meanwhile another dump's restore
     * runs beside it (courier.restore.parallel) and is done.
     */
    @Test
    void aHungProgramIsEndedAtTheTimeLimitWhileAnotherRestoreGoesOnBesideIt() throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        String marker = "hung-psql-" + run;
        Path psql = write(bin.resolve("psql"), "#!/bin/sh\n# " + marker + "\nif [ \"$1\" = \"--version\" ]; then echo 'psql (PostgreSQL) 15.18'; exit 0; fi\n"
                + "exec sleep 600\n");
        Files.setPosixFilePermissions(psql, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createSymbolicLink(bin.resolve("pg_restore"), Tools.which("pg_restore"));
        restoring().with("courier.restore.bin-dir", bin.toString()).with("courier.restore.timeout", "6")
                .with("courier.restore.parallel", "2").start();
        courier.dropFile(odooZip(tmp.resolve("staging/hung" + run + ".zip"), sourceDump(4, false), Map.of()));
        String hung = "hung" + run + "_17_0";
        databases.add(hung);
        await().atMost(Duration.ofSeconds(60)).until(() -> databaseExists(hung));
        Path dump = Files.createDirectories(tmp.resolve("staging2")).resolve("beside" + run + ".dump");
        Files.copy(sourceDump(7, true), dump);
        courier.dropFile(dump);
        String beside = "beside" + run + "_17_0";
        databases.add(beside);
        awaitStep("beside" + run + ".dump", "delivered", 1);
        assertThat(courier.store().queryForObject("select step from dumps where file_name = ?", String.class, "hung" + run + ".zip"))
                .as("restored beside the hung one, while it still ran").isEqualTo("restoring");
        awaitStep("hung" + run + ".zip", "restore-failed", 1);
        assertThat(courier.store().queryForObject("select last_error from dumps where file_name = ?", String.class, "hung" + run + ".zip"))
                .contains("psql ran longer than courier.restore.timeout (6 s) and was stopped");
        assertThat(databaseExists(hung)).as("its database dropped").isFalse();
        assertThat(query(beside, "select count(*) from partner")).isEqualTo("7");
        assertThat(ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains("sleep 600")
                && p.parent().flatMap(pp -> pp.info().commandLine()).orElse("").contains(marker))).as("the program was ended").isEmpty();
    }

    /** Odoo's current protocol delivers the platform's dump_name (here a custom-format file, and plain SQL) in a zip: restored. */
    @Test
    void theCurrentProtocolsArchivesAreRestoredWhateverTheDumpsFormat() throws Exception {
        courier = CourierHarness.jsonrpc(tmp.resolve("courier")).with("courier.restore.url", TestPostgres.url())
                .with("courier.restore.user", TestPostgres.user()).with("courier.restore.password", TestPostgres.password())
                .with("courier.restore.filestore-dir", tmp.resolve("filestore").toString()).start();
        Path staging = Files.createDirectories(tmp.resolve("staging"));
        Files.copy(sourceDump(6, true), staging.resolve("rpccustom" + run + ".dump"));
        Files.copy(sourceDump(8, false), staging.resolve("rpcplain" + run + ".sql"));
        courier.dropFile(staging.resolve("rpccustom" + run + ".dump"));
        courier.dropFile(staging.resolve("rpcplain" + run + ".sql"));
        databases.add("rpccustom" + run + "_17_0");
        databases.add("rpcplain" + run + "_17_0");
        awaitStep("rpccustom" + run + ".dump", "delivered", 1);
        awaitStep("rpcplain" + run + ".sql", "delivered", 1);
        assertThat(query("rpccustom" + run + "_17_0", "select count(*) from partner")).isEqualTo("6");
        assertThat(query("rpcplain" + run + "_17_0", "select count(*) from partner")).isEqualTo("8");
    }

    /** A server older than the PostgreSQL the platform names for the upgraded database is not restored to. */
    @Test
    void aServerOlderThanThePlatformsPostgresqlIsRefusedSayingSo() throws Exception {
        courier = new CourierHarness(tmp.resolve("courier"), CourierHarness.fastSimulator().postgresql("99"))
                .with("courier.restore.url", TestPostgres.url()).with("courier.restore.user", TestPostgres.user())
                .with("courier.restore.password", TestPostgres.password()).start();
        courier.dropFile(odooZip(tmp.resolve("staging/newer" + run + ".zip"), sourceDump(2, false), Map.of()));
        databases.add("newer" + run + "_17_0");
        awaitStep("newer" + run + ".zip", "restore-failed", 1);
        assertThat(courier.store().queryForObject("select last_error from dumps", String.class))
                .contains("older than 99, the version of the upgraded database").contains("restore it on PostgreSQL 99 or newer");
        assertThat(databaseExists("newer" + run + "_17_0")).isFalse();
    }

    // ------------------------------------------------------------------ helpers

    private void awaitStep(String fileName, String step, int count) {
        await().atMost(Duration.ofSeconds(60)).until(() -> courier.store().queryForObject(
                "select count(*) from dumps where file_name = ? and step = ?", Integer.class, fileName, step) == count);
    }

    /** A real database dumped with pg_dump: a table partner of {@code rows} rows; custom format or plain SQL. */
    private Path sourceDump(int rows, boolean custom) throws Exception {
        String src = "src_" + run + "_" + rows;
        databases.add(src);
        tool(List.of("createdb", "--maintenance-db=" + maintenanceDb(), src), null);
        update(src, "create table partner (id int primary key, name text)");
        update(src, "insert into partner select i, 'partner ' || i from generate_series(1, " + rows + ") i");
        Path out = tmp.resolve(src + (custom ? ".dump" : ".sql"));
        tool(List.of("pg_dump", "--no-owner", custom ? "--format=custom" : "--format=plain", "--file=" + out, "--dbname=" + src), null);
        return out;
    }

    private static Path odooZip(Path zip, Path sql, Map<String, String> filestore) throws IOException {
        Files.createDirectories(zip.getParent());
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(zip))) {
            z.putNextEntry(new ZipEntry("dump.sql"));
            Files.copy(sql, z);
            z.closeEntry();
            for (Map.Entry<String, String> f : filestore.entrySet()) {
                z.putNextEntry(new ZipEntry("filestore/" + f.getKey()));
                z.write(f.getValue().getBytes(StandardCharsets.UTF_8));
                z.closeEntry();
            }
        }
        return zip;
    }

    private static Path write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.writeString(file, text);
    }






    /** Runs a PostgreSQL client program against the test server. */
    private static void tool(List<String> cmd, Path unused) throws Exception {
        URI u = URI.create(TestPostgres.url().substring("jdbc:".length()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("PGHOST", u.getHost());
        pb.environment().put("PGPORT", String.valueOf(u.getPort() < 0 ? 5432 : u.getPort()));
        pb.environment().put("PGUSER", TestPostgres.user());
        pb.environment().put("PGPASSWORD", TestPostgres.password());
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("%s: %s", cmd, output).isZero();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(courier.http() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}

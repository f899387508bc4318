package com.odooupgradecourier.restore;

import static org.assertj.core.api.Assertions.assertThat;
import static com.odooupgradecourier.TestPostgres.dbUrl;
import static com.odooupgradecourier.TestPostgres.query;
import static com.odooupgradecourier.TestPostgres.update;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.odooupgradecourier.TestPostgres;
import com.odooupgradecourier.store.Dumps;
import com.odooupgradecourier.store.Queue;
import com.odooupgradecourier.store.Rows;
import com.odooupgradecourier.store.Store;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
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
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.sql.DataSource;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The restore itself against the tests' real PostgreSQL and its real client programs, without the rest of the flow: every
 * format the platform returns (read from bytes), every row of a table whose values look like psql's commands, what an
 * archive's SQL may and may not reach, the filestore merged over the database's own, a test database neutralized.
 */
class RestorerPostgresTest {
    private static final long YEAR = 365L * 24 * 3600 * 1000;
    @TempDir
    Path tmp;
    private final DefaultCamelContext camel = new DefaultCamelContext();
    private final List<String> databases = new ArrayList<>();
    private final String run = "r" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
    private Rows rows;
    private Queue queue;
    private Dumps dumps;
    private int n;

    @BeforeEach
    void store() throws Exception {
        DataSource ds = Store.open("", "", "", tmp.resolve("data"));
        rows = new Rows(ds, com.odooupgradecourier.support.KeyCipher.NONE);
        queue = new Queue(ds, "test", 60_000, System::currentTimeMillis);
        dumps = new Dumps(rows, queue, 60_000, new com.odooupgradecourier.support.RetryPolicy(2, 100, 1000), YEAR, System::currentTimeMillis);
    }

    @AfterEach
    void dropDatabases() throws Exception {
        try (Connection c = admin(); Statement s = c.createStatement()) {
            for (String db : databases) {
                s.execute("DROP DATABASE IF EXISTS \"" + db + "\" WITH (FORCE)");
            }
        }
    }

    private Restorer restorer(String owner, Path sourceFilestores) {
        return new Restorer(new RestoreSettings(TestPostgres.url(), TestPostgres.user(), TestPostgres.password(), owner,
                tmp.resolve("filestore"), sourceFilestores, "${stem}_${target}", 2, null, Duration.ofMinutes(5)), tmp.resolve("work"), dumps,
                queue);
    }

    /** A dump walked through the store to step restoring, as the restore route gets it. */
    private Exchange restoring(String fileName, Path archive, String aim) throws Exception {
        String id = "d" + (++n) + run;
        queue.receive(id, fileName, tmp.resolve("custody/" + fileName).toString());
        Map<String, Object> row = queue.claimDue().stream().filter(r -> r.get("id").equals(id)).findFirst().orElseThrow();
        Exchange ex = new DefaultExchange(camel);
        rows.load(ex, row);
        ex.setProperty("dumpSha256", "sha-" + id);
        ex.setProperty("requestId", "10534");
        ex.setProperty("requestKey", "k");
        ex.setProperty("target", "17.0");
        ex.setProperty("aim", aim);
        for (String t : List.of("admitted", "created", "upload-started", "uploaded", "processing", "upgraded", "download-started",
                "downloaded", "delivered-to-restore")) {
            dumps.go(ex, t);
        }
        ex.setProperty("archivePath", archive.toString());
        return ex;
    }

    private String restore(Restorer r, Exchange ex) throws Exception {
        r.restore(ex);
        String db = ex.getProperty("restoredTo", String.class);
        databases.add(db);
        return db;
    }

    @Test
    void everyFormatThePlatformReturnsIsRestoredReadFromItsBytes() throws Exception {
        Path source = sourceDatabase(25);
        Path custom = pgDump(source, "custom", tmp.resolve("fmt.dump"));
        Path plain = pgDump(source, "plain", tmp.resolve("fmt.sql"));
        Path directory = pgDump(source, "directory", tmp.resolve("fmt.dir"));
        Path gz = gzip(plain, tmp.resolve("fmt.sql.gz"));
        Map<String, Path> archives = new java.util.LinkedHashMap<>();
        archives.put("custom-alone", Files.copy(custom, tmp.resolve("a1.bin")));
        archives.put("sql-alone", Files.copy(plain, tmp.resolve("a2.bin")));
        archives.put("sqlgz-alone", Files.copy(gz, tmp.resolve("a3.bin")));
        archives.put("odoo-zip", zip(tmp.resolve("a4.zip"), Map.of("dump.sql", plain), Map.of("ab/one", "one")));
        archives.put("zip-custom", zip(tmp.resolve("a5.zip"), Map.of("upgraded.dump", custom), Map.of("ab/two", "two")));
        archives.put("zip-sqlgz", zip(tmp.resolve("a6.zip"), Map.of("upgraded.sql.gz", gz), Map.of()));
        archives.put("zip-directory", zip(tmp.resolve("a7.zip"), folder("upgraded/", directory), Map.of("cd/three", "three")));
        archives.put("zip-custom-as-dump-sql", zip(tmp.resolve("a8.zip"), Map.of("dump.sql", custom), Map.of()));
        Restorer r = restorer("", null);
        long rolesBefore = rolesOfTheCourier();
        for (Map.Entry<String, Path> a : archives.entrySet()) {
            String db = restore(r, restoring(a.getKey() + run + ".zip", a.getValue(), "production"));
            assertThat(query(db, "select count(*) from partner")).as(a.getKey()).isEqualTo("25");
            assertThat(query(db, "select pg_get_userbyid(datdba) from pg_database where datname = current_database()"))
                    .as("handed over to the configured role").isEqualTo(TestPostgres.user());
            assertThat(query(db, "select tableowner from pg_tables where tablename = 'partner'")).isEqualTo(TestPostgres.user());
        }
        assertThat(rolesOfTheCourier()).as("each restore's own role is dropped after it").isEqualTo(rolesBefore);
        assertThat(tmp.resolve("filestore/odoo_zip" + run + "_17_0/ab/one")).hasContent("one");
        assertThat(tmp.resolve("filestore/zip_directory" + run + "_17_0/cd/three")).hasContent("three");
    }

    /**
     * Every row, as psql -v ON_ERROR_STOP=1 -f dump.sql restores it: values that print as "restrict …" and "unrestrict …" after a backslash,
     * a backslash and a dot, and one row per character 1 to 255.
     */
    @Test
    void everyRowIsRestoredWhateverItsLinesLookLike() throws Exception {
        String src = "src_rows_" + run;
        databases.add(src);
        admin("CREATE DATABASE " + src);
        // the text first, so each value begins its COPY line, where psql's own commands would be looked for
        update(src, "create table note (body text, id int primary key)");
        update(src, "insert into note values (E'\\restrict of a note', 1), (E'\\runrestrict x', 2), (E'\\\\restrict', 3), "
                + "(E'\\\\unrestrict AbC', 4), ('\\.', 5), (E'\\\\.', 6), (E'a\\nb\\r\\\\.', 7)");
        update(src, "insert into note select chr(i) || 'estrict ' || i, 100 + i from generate_series(1, 255) i");
        Path plain = pgDump(null, "plain", tmp.resolve("rows.sql"), src);
        assertThat(Files.readString(plain)).contains("\n\\restrict of a note\t1\n", "\n\\restrict 13\t113\n");
        String db = restore(restorer("", null), restoring("rows" + run + ".zip", zip(tmp.resolve("rows.zip"), Map.of("dump.sql", plain),
                Map.of()), "production"));
        String digest = "select count(*) || ':' || md5(string_agg(id || '=' || body, '|' order by id)) from note";
        assertThat(query(db, digest)).isEqualTo(query(src, digest)).startsWith("262:");
    }

    /** The archive's SQL runs as a role of its own: it reaches its own new database and nothing else. */
    @Test
    void anArchivesSqlCannotDropRenameOrTakeTheRoleOfAnythingElse() throws Exception {
        Restorer r = restorer("", null);
        Path plain = pgDump(sourceDatabase(3), "plain", tmp.resolve("base.sql"));
        String earlier = restore(r, restoring("earlier" + run + ".zip", zip(tmp.resolve("e.zip"), Map.of("dump.sql", plain), Map.of()),
                "production"));

        for (String evil : List.of("DROP DATABASE " + earlier + ";", "ALTER DATABASE " + earlier + " RENAME TO hijacked_" + run + ";",
                "ALTER ROLE " + TestPostgres.user() + " PASSWORD 'taken';")) {
            Path sql = Files.writeString(tmp.resolve("evil.sql"), Files.readString(plain) + "\n" + evil + "\n");
            Exchange ex = restoring("evil" + (++n) + run + ".zip", zip(tmp.resolve("evil" + n + ".zip"), Map.of("dump.sql", sql), Map.of()),
                    "production");
            assertThatThrownBy(() -> r.restore(ex)).as(evil).isInstanceOf(RestoreFailedException.class)
                    .hasMessageContaining("psql stopped at an error");
            assertThat(ex.getProperty("restoredTo")).as("what it made is dropped").isNull();
        }
        assertThat(query(earlier, "select count(*) from partner")).as("the earlier restore is untouched").isEqualTo("3");
        assertThat(query(earlier, "select count(*) from pg_database where datname = 'hijacked_" + run + "'")).isEqualTo("0");

        // its own password it may change (its role is dropped after): the configured role's credentials stay as they were
        Path own = Files.writeString(tmp.resolve("own.sql"), Files.readString(plain) + "\nALTER ROLE CURRENT_USER PASSWORD 'x';\n");
        restore(r, restoring("own" + run + ".zip", zip(tmp.resolve("own.zip"), Map.of("dump.sql", own), Map.of()), "production"));
        try (Connection c = admin()) {
            assertThat(c.isValid(5)).as("the configured role still logs in with its password").isTrue();
        }
        restore(r, restoring("after" + run + ".zip", zip(tmp.resolve("after.zip"), Map.of("dump.sql", plain), Map.of()), "production"));
    }

    /**
     * What the courier reads in a restored database (is it neutralized? which attachments does it name?) may be a view of
     * the archive's that calls a function of its own: it runs as the restore's own role, never as the configured one
     * (CREATEROLE), so it cannot make a role, let alone grant one the server's programs.
     */
    @Test
    void whatTheCourierReadsAfterTheRestoreRunsWithTheArchivesOwnRightsOnly() throws Exception {
        String pwned = "adv_pwned_" + run;
        String evil = "CREATE FUNCTION public.adv_evil() RETURNS text LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'CREATE ROLE " + pwned
                + " LOGIN'; RETURN 'True'; END $$;\n";
        Path neutral = Files.writeString(tmp.resolve("view1.sql"), evil + "CREATE TABLE public.ir_cron (id int, active boolean);\n"
                + "CREATE VIEW public.ir_config_parameter AS SELECT 'database.is_neutralized'::text AS key, public.adv_evil() AS value;\n");
        Exchange test = restoring("view1" + run + ".zip", zip(tmp.resolve("view1.zip"), Map.of("dump.sql", neutral), Map.of()), "test");
        assertThatThrownBy(() -> restorer("", null).restore(test)).isInstanceOf(RestoreFailedException.class)
                .hasMessageContaining("permission denied to create role");
        Path attachments = Files.writeString(tmp.resolve("view2.sql"), evil
                + "CREATE VIEW public.ir_attachment AS SELECT public.adv_evil() AS store_fname;\n");
        Exchange prod = restoring("view2" + run + ".zip", zip(tmp.resolve("view2.zip"), Map.of("dump.sql", attachments), Map.of()),
                "production");
        assertThatThrownBy(() -> restorer("", null).restore(prod)).isInstanceOf(RestoreFailedException.class)
                .hasMessageContaining("permission denied to create role");
        try (Connection c = admin(); ResultSet rs = c.createStatement().executeQuery(
                "select count(*) from pg_roles where rolname = '" + pwned + "'")) {
            rs.next();
            assertThat(rs.getInt(1)).as("no role made by the archive").isZero();
        }
        assertThat(test.getProperty("restoredTo")).isNull();
        assertThat(prod.getProperty("restoredTo")).isNull();
    }

    /**
     * Handed over, a database runs nothing of the archive's with its owner's rights for whoever calls it: a SECURITY DEFINER
     * function runs as its caller, and only the owner may connect.
     */
    @Test
    void aRestoredDatabaseLendsItsOwnersRightsToNoOne() throws Exception {
        Path sql = Files.writeString(tmp.resolve("definer.sql"), "CREATE FUNCTION public.adv_whoami() RETURNS text LANGUAGE sql "
                + "SECURITY DEFINER AS 'select current_user::text';\nCREATE PROCEDURE public.adv_proc() LANGUAGE sql SECURITY DEFINER "
                + "AS 'select 1';\nCREATE TABLE public.partner (id int);\n");
        String db = restore(restorer("", null), restoring("definer" + run + ".zip", zip(tmp.resolve("definer.zip"),
                Map.of("dump.sql", sql), Map.of()), "production"));
        assertThat(query(db, "select count(*) from pg_proc where prosecdef and proname like 'adv\\_%'")).isEqualTo("0");
        assertThat(query(db, "select count(*) from pg_proc where proname like 'adv\\_%'")).isEqualTo("2");
        String other = "adv_other_" + run;
        admin("CREATE ROLE " + other + " LOGIN PASSWORD 'other'");
        try {
            URI u = URI.create(TestPostgres.url().substring("jdbc:".length()));
            assertThatThrownBy(() -> DriverManager.getConnection("jdbc:postgresql://" + u.getHost() + ":" + u.getPort() + "/" + db, other,
                    "other").close()).hasMessageContaining("permission denied for database");
        } finally {
            admin("DROP ROLE " + other);
        }
    }

    /**
     * An archive that rubs out the mark of its database (COMMENT ON DATABASE … IS NULL) and then fails: what it made is
     * still known (the restore's own role owns it) and dropped, with that role; nothing is left.
     */
    @Test
    void aFailedRestoreLeavesNothingEvenWhenTheArchiveRubbedOutItsMark() throws Exception {
        long rolesBefore = rolesOfTheCourier();
        Path sql = Files.writeString(tmp.resolve("unmark.sql"), "CREATE TABLE public.partner (id int);\n"
                + "DO $$ BEGIN EXECUTE format('COMMENT ON DATABASE %I IS NULL', current_database()); END $$;\nSELECT 1/0;\n");
        Exchange ex = restoring("unmark" + run + ".zip", zip(tmp.resolve("unmark.zip"), Map.of("dump.sql", sql), Map.of()), "production");
        assertThatThrownBy(() -> restorer("", null).restore(ex)).isInstanceOf(RestoreFailedException.class)
                .hasMessageContaining("division by zero");
        try (Connection c = admin(); ResultSet rs = c.createStatement().executeQuery(
                "select count(*) from pg_database where datname like 'unmark" + run + "%'")) {
            rs.next();
            assertThat(rs.getInt(1)).as("the database it made is dropped").isZero();
        }
        assertThat(rolesOfTheCourier()).as("and its role").isEqualTo(rolesBefore);
        assertThat(ex.getProperty("restoredTo")).isNull();
    }

    /** A plain dump made without --no-owner names its owners: the restore fails saying how to dump it instead. */
    @Test
    void aPlainDumpThatSetsOwnersFailsSayingHowToDumpIt() throws Exception {
        Path sql = Files.writeString(tmp.resolve("owners.sql"), "CREATE TABLE public.partner (id int);\n"
                + "ALTER TABLE public.partner OWNER TO " + TestPostgres.user() + ";\n");
        Exchange ex = restoring("owners" + run + ".zip", zip(tmp.resolve("owners.zip"), Map.of("dump.sql", sql), Map.of()), "production");
        assertThatThrownBy(() -> restorer("", null).restore(ex)).isInstanceOf(RestoreFailedException.class)
                .hasMessageContaining("must be member of role").hasMessageContaining("pg_dump --no-owner");
    }

    /**
     * A test database whose scheduled actions cannot be turned off (a rule of the archive's keeps them on) is not restored
     * as if it were neutralized: the restore fails saying so, and what it made is dropped.
     */
    @Test
    void aTestDatabaseThatCannotBeNeutralizedIsNotRestored() throws Exception {
        Path sql = Files.writeString(tmp.resolve("rule.sql"), "CREATE TABLE public.ir_config_parameter (id serial, key varchar unique, "
                + "value text);\nCREATE TABLE public.ir_cron (id int, active boolean);\nINSERT INTO public.ir_cron VALUES (1, true);\n"
                + "CREATE RULE adv_keep AS ON UPDATE TO public.ir_cron DO INSTEAD NOTHING;\n");
        Exchange ex = restoring("rule" + run + ".zip", zip(tmp.resolve("rule.zip"), Map.of("dump.sql", sql), Map.of()), "test");
        assertThatThrownBy(() -> restorer("", null).restore(ex)).isInstanceOf(RestoreFailedException.class)
                .hasMessageContaining("cannot be neutralized: 1 scheduled action(s) stay active");
        assertThat(ex.getProperty("restoredTo")).isNull();
    }

    /**
     * What the courier neutralizes is what Odoo will see (the tables in public), whatever search_path the archive gave the
     * restore's role or its database: decoy tables in another schema, or a search_path without public, change nothing.
     */
    @Test
    void neutralizingReachesTheTablesOdooSeesWhateverSearchPathTheArchiveSets() throws Exception {
        for (String setting : List.of("ALTER ROLE CURRENT_USER SET search_path = decoy, public",
                "ALTER ROLE CURRENT_USER SET search_path = pg_catalog",
                "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = decoy, public', current_database()); END $$")) {
            Path sql = Files.writeString(tmp.resolve("decoy.sql"), "CREATE TABLE public.ir_config_parameter (id serial, key varchar unique, "
                    + "value text);\nCREATE TABLE public.ir_cron (id int, active boolean);\nINSERT INTO public.ir_cron VALUES (1, true), (2, true);\n"
                    + "CREATE TABLE public.ir_mail_server (id int, active boolean);\nINSERT INTO public.ir_mail_server VALUES (1, true);\n"
                    + "CREATE SCHEMA decoy;\nCREATE TABLE decoy.ir_config_parameter (id serial, key varchar unique, value text);\n"
                    + "CREATE TABLE decoy.ir_cron (id int, active boolean);\nCREATE TABLE decoy.ir_mail_server (id int, active boolean);\n"
                    + setting + ";\n");
            Exchange ex = restoring("decoy" + run + ".zip", zip(tmp.resolve("decoy.zip"), Map.of("dump.sql", sql), Map.of()), "test");
            String db = restore(restorer("", null), ex);
            assertThat(ex.getProperty("neutralized")).as(setting).isEqualTo("courier");
            assertThat(query(db, "select count(*) from public.ir_cron where active")).as(setting).isEqualTo("0");
            assertThat(query(db, "select count(*) from public.ir_mail_server where active")).as(setting).isEqualTo("0");
            assertThat(query(db, "select value from public.ir_config_parameter where key = 'database.is_neutralized'")).as(setting)
                    .isEqualTo("True");
        }
    }

    /**
     * The restored filestore is the database's own with the platform's merged over it: files of the source's folder hard
     * linked (never written through), the platform's files replacing theirs; attachments the database names but the
     * filestore lacks are counted.
     */
    @Test
    void theFilestoreIsTheDatabasesOwnWithThePlatformsMergedOverItAndMissingAttachmentsAreCounted() throws Exception {
        Path sources = tmp.resolve("source-filestores");
        Files.createDirectories(sources.resolve("acme_prod/aa"));
        Files.writeString(sources.resolve("acme_prod/aa/kept"), "from production");
        Files.writeString(sources.resolve("acme_prod/aa/replaced"), "old");
        String src = "src_att_" + run;
        databases.add(src);
        admin("CREATE DATABASE " + src);
        update(src, "create table ir_attachment (id int, store_fname varchar)");
        update(src, "insert into ir_attachment values (1, 'aa/kept'), (2, 'aa/replaced'), (3, 'bb/new'), (4, 'cc/lost'), (5, null)");
        Path sql = pgDump(null, "plain", tmp.resolve("att.sql"), src);
        Path archive = zip(tmp.resolve("att.zip"), Map.of("dump.sql", sql), Map.of("aa/replaced", "new", "bb/new", "new"));
        Exchange ex = restoring("att" + run + ".zip", archive, "production");
        ex.setProperty("sourceDatabase", "acme_prod");
        String db = restore(restorer("", sources), ex);
        Path filestore = tmp.resolve("filestore").resolve(db);
        assertThat(filestore.resolve("aa/kept")).hasContent("from production");
        assertThat(Files.isSameFile(filestore.resolve("aa/kept"), sources.resolve("acme_prod/aa/kept"))).as("hard-linked").isTrue();
        assertThat(filestore.resolve("aa/replaced")).hasContent("new");
        assertThat(sources.resolve("acme_prod/aa/replaced")).as("the source's own file is not written through").hasContent("old");
        assertThat(filestore.resolve("bb/new")).hasContent("new");
        assertThat(ex.getProperty("missingAttachments")).isEqualTo(1L);
        assertThat(ex.getProperty("filestorePath")).isEqualTo(filestore.toString());
    }

    @Test
    void aFilestoreWithAFileAndAFolderOfOneNameFailsWithASentence() throws Exception {
        Path plain = pgDump(sourceDatabase(2), "plain", tmp.resolve("fs.sql"));
        Path archive = zip(tmp.resolve("fs.zip"), Map.of("dump.sql", plain), Map.of("ab/good1", "a file", "ab/good1/x", "under it"));
        Exchange ex = restoring("fs" + run + ".zip", archive, "production");
        assertThatThrownBy(() -> restorer("", null).restore(ex)).isInstanceOf(RestoreFailedException.class)
                .hasMessage("the archive's filestore holds both a file and a folder named ab/good1: it cannot be restored as it is");
        assertThat(ex.getProperty("restoredTo")).isNull();
    }

    /** A test database must not reach the world: neutralized by the platform, or else by the courier; never a production one. */
    @Test
    void aTestDatabaseTheplatformDidNotNeutralizeIsNeutralizedByTheCourierAndAProductionOneNever() throws Exception {
        String src = "src_neutral_" + run;
        databases.add(src);
        admin("CREATE DATABASE " + src);
        update(src, "create table ir_config_parameter (id serial, key varchar unique, value text)");
        update(src, "create table ir_cron (id int, active boolean)");
        update(src, "create table ir_mail_server (id int, active boolean)");
        update(src, "insert into ir_cron values (1, true), (2, true); insert into ir_mail_server values (1, true)");
        Path sql = pgDump(null, "plain", tmp.resolve("neutral.sql"), src);
        Restorer r = restorer("", null);

        Exchange test = restoring("neutral" + run + ".zip", zip(tmp.resolve("n1.zip"), Map.of("dump.sql", sql), Map.of()), "test");
        String db = restore(r, test);
        assertThat(test.getProperty("neutralized")).isEqualTo("courier");
        assertThat(query(db, "select count(*) from ir_cron where active")).isEqualTo("0");
        assertThat(query(db, "select count(*) from ir_mail_server where active")).isEqualTo("0");
        assertThat(query(db, "select value from ir_config_parameter where key = 'database.is_neutralized'")).isEqualTo("True");

        Exchange production = restoring("prod" + run + ".zip", zip(tmp.resolve("n2.zip"), Map.of("dump.sql", sql), Map.of()), "production");
        String prod = restore(r, production);
        assertThat(production.getProperty("neutralized")).isNull();
        assertThat(query(prod, "select count(*) from ir_cron where active")).isEqualTo("2");

        update(src, "insert into ir_config_parameter (key, value) values ('database.is_neutralized', 'True')");
        Path neutral = pgDump(null, "plain", tmp.resolve("neutral2.sql"), src);
        Exchange already = restoring("already" + run + ".zip", zip(tmp.resolve("n3.zip"), Map.of("dump.sql", neutral), Map.of()), "test");
        String same = restore(r, already);
        assertThat(already.getProperty("neutralized")).isEqualTo("platform");
        assertThat(query(same, "select count(*) from ir_cron where active")).as("the platform's word is taken").isEqualTo("2");
    }

    // ------------------------------------------------------------------ helpers

    private long rolesOfTheCourier() throws Exception {
        try (Connection c = admin(); ResultSet rs = c.createStatement().executeQuery(
                "select count(*) from pg_roles where rolname like 'courier\\_restore\\_%'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private Path sourceDatabase(int rows) throws Exception {
        String src = "src_" + run + "_" + (++n);
        databases.add(src);
        admin("CREATE DATABASE " + src);
        update(src, "create table partner (id int primary key, name text)");
        update(src, "insert into partner select i, 'partner ' || i from generate_series(1, " + rows + ") i");
        return Path.of(src);
    }

    private Path pgDump(Path source, String format, Path out) throws Exception {
        return pgDump(source, format, out, source.toString());
    }

    private Path pgDump(Path unused, String format, Path out, String db) throws Exception {
        tool(List.of("pg_dump", "--no-owner", "--format=" + format, "--file=" + out, "--dbname=" + db));
        return out;
    }

    private static Path gzip(Path from, Path to) throws IOException {
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(to))) {
            Files.copy(from, out);
        }
        return to;
    }

    /** The files of a folder as zip entries under {@code prefix}. */
    private static Map<String, Path> folder(String prefix, Path dir) throws IOException {
        Map<String, Path> m = new java.util.LinkedHashMap<>();
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                m.put(prefix + f.getFileName(), f);
            }
        }
        return m;
    }

    private static Path zip(Path zip, Map<String, Path> files, Map<String, String> filestore) throws IOException {
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(zip))) {
            for (Map.Entry<String, Path> f : files.entrySet()) {
                z.putNextEntry(new ZipEntry(f.getKey()));
                Files.copy(f.getValue(), z);
                z.closeEntry();
            }
            for (Map.Entry<String, String> f : new java.util.TreeMap<>(filestore).entrySet()) {
                z.putNextEntry(new ZipEntry("filestore/" + f.getKey()));
                z.write(f.getValue().getBytes(StandardCharsets.UTF_8));
                z.closeEntry();
            }
        }
        return zip;
    }

    private static Connection admin() throws Exception {
        return DriverManager.getConnection(TestPostgres.url(), TestPostgres.user(), TestPostgres.password());
    }

    private static void admin(String sql) throws Exception {
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }




    private static void tool(List<String> cmd) throws Exception {
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
}

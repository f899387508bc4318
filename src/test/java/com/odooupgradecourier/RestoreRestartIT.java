package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restore cut short by {@code kill -9} of the service: the next start drops the database the broken restore
 * created (and only it) and restores again under the same name; nothing is left half-restored.
 */
class RestoreRestartIT {
    @TempDir
    Path tmp;

    @Test
    void aRestoreKilledHalfWayIsDoneAgainIntoTheSameNameAndNothingHalfIsLeft() throws Exception {
        String stem = "killed" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
        String db = stem + "_17_0";
        try (CourierHarness h = new CourierHarness(tmp.resolve("courier"))) {
            Map<String, String> env = new HashMap<>(CourierProcess.env(h));
            env.put("COURIER_RESTORE_URL", TestPostgres.url());
            env.put("COURIER_RESTORE_USER", TestPostgres.user());
            env.put("COURIER_RESTORE_PASSWORD", TestPostgres.password());
            Path filestore = tmp.resolve("filestore");
            env.put("COURIER_RESTORE_FILESTORE_DIR", filestore.toString());
            Path zip = tmp.resolve("staging/" + stem + ".zip");
            Files.createDirectories(zip.getParent());
            try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(zip))) {
                z.putNextEntry(new ZipEntry("dump.sql"));
                z.write(("CREATE TABLE public.partner (id int);\nINSERT INTO public.partner SELECT generate_series(1, 10);\n"
                        + "SELECT pg_sleep(6);\nCREATE TABLE public.after_the_pause (x int);\n").getBytes(StandardCharsets.UTF_8));
                z.closeEntry();
                z.putNextEntry(new ZipEntry("filestore/ab/attachment"));
                z.write("kept".getBytes(StandardCharsets.UTF_8));
                z.closeEntry();
            }
            Path log = tmp.resolve("courier.log");
            try {
                try (CourierProcess first = CourierProcess.start(log, List.of(), env)) {
                    h.dropFile(zip);
                    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> "restoring".equals(RestartIT.step(h)) && count(db) == 1
                            && rowsIn(db) == 10);
                    first.kill();
                }
                // as if the kill had come while the filestore was being written: a part of it is there
                Files.createDirectories(filestore.resolve(db + "/ab"));
                Files.writeString(filestore.resolve(db + "/ab/half-written"), "half");
                try (CourierProcess second = CourierProcess.start(log, List.of(), env)) {
                    await().atMost(Duration.ofSeconds(90)).until(() -> "delivered".equals(RestartIT.step(h)));
                    second.terminate();
                }
                assertThat(Files.readString(log)).contains("the database " + db + " a broken restore left was dropped");
                assertThat(count(stem + "%")).as("one database, no _2").isEqualTo(1);
                assertThat(rowsIn(db)).isEqualTo(10);
                assertThat(filestore.resolve(db + "/ab/attachment")).hasContent("kept");
                assertThat(filestore.resolve(db + "/ab/half-written")).as("what the broken restore left is gone").doesNotExist();
                try (Connection c = DriverManager.getConnection(dbUrl(db), TestPostgres.user(), TestPostgres.password());
                     ResultSet rs = c.createStatement().executeQuery("select count(*) from public.after_the_pause")) {
                    assertThat(rs.next()).isTrue();
                }
            } finally {
                try (Connection c = DriverManager.getConnection(TestPostgres.url(), TestPostgres.user(), TestPostgres.password())) {
                    c.createStatement().execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
                }
            }
        }
    }

    private static String dbUrl(String db) {
        String url = TestPostgres.url();
        return url.substring(0, url.lastIndexOf('/') + 1) + db;
    }

    private static int count(String like) throws Exception {
        try (Connection c = DriverManager.getConnection(TestPostgres.url(), TestPostgres.user(), TestPostgres.password());
             var s = c.prepareStatement("select count(*) from pg_database where datname like ?")) {
            s.setString(1, like);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getInt(1) : 0;
            }
        }
    }

    private static int rowsIn(String db) {
        try (Connection c = DriverManager.getConnection(dbUrl(db), TestPostgres.user(), TestPostgres.password());
             ResultSet rs = c.createStatement().executeQuery("select count(*) from public.partner")) {
            return rs.next() ? rs.getInt(1) : -1;
        } catch (Exception e) {
            return -1;
        }
    }
}

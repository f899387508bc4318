package com.odooupgradecourier.dump;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.odooupgradecourier.TestDumps;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A dump is whole, or refused before a byte is sent: cut plain SQL, cut gzip, a zip whose filestore names leave it. */
class WholeDumpTest {
    @TempDir
    Path tmp;

    @Test
    void plainSqlIsWholeOnlyWithPgDumpsLastLine() throws Exception {
        Path whole = TestDumps.plainSql(tmp.resolve("whole.sql"), 2000);
        assertThatCode(() -> WholeDump.require(whole, "sql")).doesNotThrowAnyException();
        byte[] bytes = Files.readAllBytes(whole);
        for (int cut : new int[] {bytes.length / 2, bytes.length - 10, 100}) {
            Path part = Files.write(tmp.resolve("cut" + cut + ".sql"), Arrays.copyOf(bytes, cut));
            assertThatThrownBy(() -> WholeDump.require(part, "sql")).as("cut at %d", cut).isInstanceOf(BadDumpException.class)
                    .hasMessageContaining("ends before pg_dump's last line");
        }
        // the rest of a copy cut in two ends as a dump does, but does not begin as one
        Path rest = Files.write(tmp.resolve("rest.sql"), Arrays.copyOfRange(bytes, bytes.length / 2, bytes.length));
        assertThatThrownBy(() -> WholeDump.require(rest, "sql")).isInstanceOf(BadDumpException.class)
                .hasMessageContaining("does not begin with pg_dump's first line");
        // pg_dump's newer releases end with unrestrict after that line
        Path newer = Files.writeString(tmp.resolve("newer.sql"), Files.readString(whole) + "\n\\unrestrict " + "k".repeat(64) + "\n\n");
        assertThatCode(() -> WholeDump.require(newer, "sql")).doesNotThrowAnyException();
    }

    @Test
    void gzippedSqlIsWholeOnlyWhenItsStreamEndsAndHoldsTheLastLine() throws Exception {
        Path plain = TestDumps.plainSql(tmp.resolve("whole.sql"), 20_000);
        Path gz = gzip(Files.readAllBytes(plain), tmp.resolve("whole.sql.gz"));
        assertThatCode(() -> WholeDump.require(gz, "sql-gzip")).doesNotThrowAnyException();
        byte[] bytes = Files.readAllBytes(gz);
        for (int cut : new int[] {bytes.length / 2, bytes.length - 4}) {
            Path part = Files.write(tmp.resolve("cut" + cut + ".sql.gz"), Arrays.copyOf(bytes, cut));
            assertThatThrownBy(() -> WholeDump.require(part, "sql-gzip")).as("cut at %d", cut).isInstanceOf(BadDumpException.class)
                    .hasMessageContaining("ends before its end");
        }
        byte[] sql = Files.readAllBytes(plain);
        Path cutThenZipped = gzip(Arrays.copyOf(sql, sql.length / 2), tmp.resolve("half.sql.gz"));
        assertThatThrownBy(() -> WholeDump.require(cutThenZipped, "sql-gzip")).isInstanceOf(BadDumpException.class)
                .hasMessageContaining("(gzipped) ends before pg_dump's last line");
    }

    @Test
    void anOdooZipsFilestoreNamesStayInItAndNameEachThingOnce() throws Exception {
        Path good = zip(tmp.resolve("good.zip"), Map.of("dump.sql", "x", "filestore/ab/abcdef", "a", "filestore/cd/cdef01", "b"));
        assertThatCode(() -> WholeDump.require(good, "odoo-zip")).doesNotThrowAnyException();
        for (String evil : new String[] {"filestore/../../etc/passwd", "filestore/ab/../../x", "filestore//abs", "filestore/a\\..\\b"}) {
            Path z = zip(tmp.resolve("evil.zip"), Map.of("dump.sql", "x", evil, "pwned"));
            assertThatThrownBy(() -> WholeDump.require(z, "odoo-zip")).as(evil).isInstanceOf(BadDumpException.class)
                    .hasMessageContaining("which leaves the filestore");
        }
        Path both = zip(tmp.resolve("both.zip"), Map.of("dump.sql", "x", "filestore/ab/good1", "a file", "filestore/ab/good1/x", "under"));
        assertThatThrownBy(() -> WholeDump.require(both, "odoo-zip")).isInstanceOf(BadDumpException.class)
                .hasMessageContaining("both a file and a folder named ab/good1");
    }

    private static Path gzip(byte[] content, Path to) throws Exception {
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(to))) {
            out.write(content);
        }
        return to;
    }

    private static Path zip(Path to, Map<String, String> entries) throws Exception {
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(to))) {
            for (Map.Entry<String, String> e : new java.util.TreeMap<>(entries).entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                z.closeEntry();
            }
        }
        return to;
    }
}

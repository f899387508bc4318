package com.odooupgradecourier.restore;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The parts of the restore that need no server: what reaches psql, and which psql may be used. */
class RestorerTest {
    private static String filtered(String sql) throws Exception {
        try (var in = RestrictedSql.of(new ByteArrayInputStream(sql.getBytes(StandardCharsets.UTF_8)), "KEY")) {
            String out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(out).startsWith("\\restrict KEY\n");
            return out.substring("\\restrict KEY\n".length());
        }
    }

    @Test
    void pgDumpsOwnRestrictLinesAreLeftOutAndEverythingElsePassesByteForByte() throws Exception {
        String header = "--\n-- PostgreSQL database dump\n--\n\n";
        String body = "SET x = 1;\nCOPY public.t (a, b) FROM stdin;\n\\N\tone\n\\\\restrict\ttwo\n\\.\nSELECT 1;\n\\connect other\n";
        assertThat(filtered(header + "\\restrict AbC123\n\n" + body + "\\unrestrict AbC123\n")).isEqualTo(header + "\n" + body);
        assertThat(filtered(body)).isEqualTo(body);
        // psql refuses these under this restore's restriction: they are not pg_dump's own, so they reach it
        assertThat(filtered("\\unrestrict k")).isEqualTo("\\unrestrict k");
        assertThat(filtered("SET x = 1;\n\\restrict k\n")).isEqualTo("SET x = 1;\n\\restrict k\n");
        assertThat(filtered("\\restrict k\n\\unrestrict other\n")).isEqualTo("\\unrestrict other\n");
        assertThat(filtered("\\r\n\\\n\\")).isEqualTo("\\r\n\\\n\\");
        String big = "x".repeat(1 << 20);
        assertThat(filtered("\\restrict k\n" + big + "\n")).isEqualTo(big + "\n");
    }

    /**
     * COPY data is data, however the COPY is written (lower case, options, over several lines): a value that begins with a
     * carriage return and "estrict" is written "\restrict …" there, and is a row, as are lines that look like psql's
     * other commands. No line but pg_dump's own two is ever left out.
     */
    @Test
    void linesOfCopyDataAreRowsWhateverTheyBeginWith() throws Exception {
        String data = "COPY public.note (id, body) FROM stdin;\n1\t\\restrict of a note\n2\t\\unrestrict x\n3\t\\restrict\n"
                + "\\restrict whole line\n\\unrestrict AbD\n4\t\\.x\n\\.\n"
                + "copy public.t (a) from stdin with (format text);\n\\unrestrict keep-me-row\n\\restrict me too\n\\.\n"
                + "COPY public.t (a)\n  FROM stdin;\n\\unrestrict keep-me-row\n\\.\n";
        String sql = "\\restrict AbC\nSET x = 1;\n" + data + "SELECT 1;\n\\unrestrict AbC\n";
        assertThat(filtered(sql)).isEqualTo("SET x = 1;\n" + data + "SELECT 1;\n");
        // a COPY line longer than any before, and data lines of a megabyte, pass whole
        String wide = "COPY public.t (" + "c, ".repeat(5000) + "d) FROM stdin;\n";
        String row = "\\restrict " + "y".repeat(1 << 20) + "\n";
        assertThat(filtered("\\restrict k\n" + wide + row + "\\.\n\\unrestrict k\n")).isEqualTo(wide + row + "\\.\n");
    }

    @Test
    void onlyAPsqlThatCanRestrictBackslashCommandsIsUsed() {
        assertThat(Restorer.restrictsBackslashCommands("psql (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)")).isTrue();
        assertThat(Restorer.restrictsBackslashCommands("psql (PostgreSQL) 17.6")).isTrue();
        assertThat(Restorer.restrictsBackslashCommands("psql (PostgreSQL) 18.1")).isTrue();
        assertThat(Restorer.restrictsBackslashCommands("psql (PostgreSQL) 15.13")).isFalse();
        assertThat(Restorer.restrictsBackslashCommands("psql (PostgreSQL) 12.22")).isFalse();
        assertThat(Restorer.restrictsBackslashCommands("")).isFalse();
    }

    @Test
    void aRestoreNameIsOneWithRoomForItsSuffix() throws Exception {
        Restorer r = new Restorer(new RestoreSettings("jdbc:postgresql://127.0.0.1:5432/postgres", "u", "p", "", null, null,
                "${stem}_${target}", 1, null, java.time.Duration.ofHours(6)), null, null, null);
        r.checkSettings("true", "a".repeat(60), null);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> r.checkSettings("true", "a".repeat(61), null))
                .hasMessageContaining("at most 60");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> r.checkSettings("true", "Acme; drop", null))
                .hasMessageContaining("lower-case letters");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> r.checkSettings("maybe", null, null)).hasMessageContaining("true or false");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> r.checkSettings("true", null, "../etc")).hasMessageContaining("source-database");
        assertThat(r.baseName("Acme Corp.zip", "17.0", null)).isEqualTo("acme_corp_17_0");
        assertThat(r.baseName("1st.dump", "17.0", null)).isEqualTo("db_1st_17_0");
        assertThat(r.baseName("x".repeat(200) + ".zip", "17.0", null)).hasSize(60);
    }

    /**
     * psql cut off from its server mid-script says so on a line without the word error ("server closed the connection
     * unexpectedly") and then "error: connection to server was lost": a server gone (the restore waits for it), never a
     * final failure; the lines a record keeps are still only the error lines.
     */
    @Test
    void aProgramCutOffFromItsServerIsAServerGoneWhateverLineSaysIt(@org.junit.jupiter.api.io.TempDir java.nio.file.Path bin)
            throws Exception {
        for (String said : java.util.List.of("psql:<stdin>:4: server closed the connection unexpectedly\n"
                        + "\tThis probably means the server terminated abnormally\n",
                "psql:<stdin>:4: error: connection to server was lost\n")) {
            java.nio.file.Path psql = bin.resolve("psql");
            java.nio.file.Files.writeString(psql, "#!/bin/sh\nprintf '" + said + "' >&2\nexit 2\n");
            psql.toFile().setExecutable(true);
            Programs.Result r = new Programs(bin, java.time.Duration.ofSeconds(10))
                    .run("psql", java.util.List.of(), java.util.Map.of(), null, java.time.Duration.ofSeconds(10), null);
            assertThat(r.exit()).isEqualTo(2);
            assertThat(r.serverGone()).as(said).isTrue();
        }
        java.nio.file.Files.writeString(bin.resolve("psql"), "#!/bin/sh\necho 'psql:<stdin>:9: ERROR:  syntax error at or near \"x\"' >&2\n"
                + "exit 3\n");
        Programs.Result r = new Programs(bin, java.time.Duration.ofSeconds(10))
                .run("psql", java.util.List.of(), java.util.Map.of(), null, java.time.Duration.ofSeconds(10), null);
        assertThat(r.serverGone()).isFalse();
        assertThat(r.stderr()).contains("syntax error");
    }

    /**
     * A program the courier runs (pg_dump, psql, pg_restore) gets only what it needs of the service's environment: never the
     * service's settings and secrets (the contract, the store's, the restore's, other sources' passwords in COURIER_*,
     * UPGRADE_*), readable in /proc/<pid>/environ; and the connection it is given.
     */
    @org.junit.jupiter.api.Test
    void aProgramGetsOnlyTheEnvironmentItNeeds() throws Exception {
        Programs programs = new Programs(java.nio.file.Path.of("/usr/bin"), java.time.Duration.ofMinutes(1));
        Programs.Result r = programs.run("env", java.util.List.of(), java.util.Map.of("PGPASSWORD", "the-source-password", "PGHOST", "h"),
                null, java.time.Duration.ofMinutes(1), null);
        java.util.Set<String> names = new java.util.TreeSet<>();
        for (String line : r.stdout().split("\n")) {
            if (line.contains("=")) {
                names.add(line.substring(0, line.indexOf('=')));
            }
        }
        org.assertj.core.api.Assertions.assertThat(names).contains("PATH", "PGPASSWORD", "PGHOST", "PGCONNECT_TIMEOUT")
                .allMatch(n -> java.util.Set.of("PATH", "LANG", "LANGUAGE", "TZ", "TMPDIR", "HOME", "PGPASSWORD", "PGHOST",
                        "PGCONNECT_TIMEOUT").contains(n) || n.startsWith("LC_"), "only what a program needs");
    }
}

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
        String body = "SET x = 1;\nCOPY public.t (a, b) FROM stdin;\n\\N\tone\n\\\\restrict\ttwo\n\\.\nSELECT 1;\n\\connect other\n";
        assertThat(filtered("\\restrict AbC123\n" + body + "\\unrestrict AbC123\n")).isEqualTo(body);
        assertThat(filtered(body)).isEqualTo(body);
        assertThat(filtered("\\unrestrict k")).isEmpty();
        assertThat(filtered("\\r\n\\\n\\")).isEqualTo("\\r\n\\\n\\");
        String big = "x".repeat(1 << 20);
        assertThat(filtered("\\restrict k\n" + big + "\n")).isEqualTo(big + "\n");
    }

    /**
     * COPY data is data: a value that begins with a carriage return and "estrict" is written "\restrict …" there, and is
     * a row, as are lines that look like psql's other commands; only the top level's restrict lines are left out.
     */
    @Test
    void linesOfCopyDataAreRowsWhateverTheyBeginWith() throws Exception {
        String data = "COPY public.note (id, body) FROM stdin;\n1\t\\restrict of a note\n2\t\\unrestrict x\n3\t\\restrict\n"
                + "\\restrict whole line\n\\unrestrict AbC\n4\t\\.x\n\\.\n";
        String sql = "\\restrict AbC\nSET x = 1;\n" + data + "SELECT 1;\n\\unrestrict AbC\n";
        assertThat(filtered(sql)).isEqualTo("SET x = 1;\n" + data + "SELECT 1;\n");
        // a COPY line longer than any before, and data lines of a megabyte, pass whole
        String wide = "COPY public.t (" + "c, ".repeat(5000) + "d) FROM stdin;\n";
        String row = "\\restrict " + "y".repeat(1 << 20) + "\n";
        assertThat(filtered(wide + row + "\\.\n\\restrict k\n")).isEqualTo(wide + row + "\\.\n");
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
                "${stem}_${target}", 1, null, java.time.Duration.ofHours(6)), null, null);
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
}

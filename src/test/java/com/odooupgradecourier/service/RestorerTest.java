package com.odooupgradecourier.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The parts of the restore that need no server: what reaches psql, and which psql may be used. */
class RestorerTest {
    private static String filtered(String sql) throws Exception {
        try (var in = new Restorer.RestrictLinesDropped(new ByteArrayInputStream(sql.getBytes(StandardCharsets.UTF_8)))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
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
        Restorer r = new Restorer("jdbc:postgresql://127.0.0.1:5432/postgres", "u", "p", null, "", 1, null, null, null);
        r.checkSettings("true", "a".repeat(60));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> r.checkSettings("true", "a".repeat(61)))
                .hasMessageContaining("at most 60");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> r.checkSettings("true", "Acme; drop"))
                .hasMessageContaining("lower-case letters");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> r.checkSettings("maybe", null)).hasMessageContaining("true or false");
        assertThat(r.baseName("Acme Corp.zip", "17.0", null)).isEqualTo("acme_corp_17_0");
        assertThat(r.baseName("1st.dump", "17.0", null)).isEqualTo("db_1st_17_0");
        assertThat(r.baseName("x".repeat(200) + ".zip", "17.0", null)).hasSize(60);
    }
}

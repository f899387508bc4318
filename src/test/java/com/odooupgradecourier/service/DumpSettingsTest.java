package com.odooupgradecourier.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.odooupgradecourier.dump.BadDumpException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A dump's own settings file as people write it: with Notepad's byte order mark, or a key given twice by mistake. */
class DumpSettingsTest {
    @TempDir
    Path tmp;

    @Test
    void aByteOrderMarkIsNotPartOfTheFirstKey() throws Exception {
        Path sidecar = tmp.resolve("acme.dump.properties");
        Files.write(sidecar, ("\uFEFFtarget = 16.0\r\naim = production\r\n").getBytes(StandardCharsets.UTF_8));
        Properties p = DumpSettings.read(sidecar);
        assertThat(p.getProperty("target")).isEqualTo("16.0");
        assertThat(p.getProperty("aim")).isEqualTo("production");
        assertThat(p.stringPropertyNames()).containsExactlyInAnyOrder("target", "aim");
    }

    @Test
    void aKeyGivenTwiceIsRefusedNamingBothLines() throws Exception {
        Path sidecar = tmp.resolve("acme.dump.properties");
        Files.writeString(sidecar, "target = 16.0\naim = test\n# a comment\ntarget=17.0\n");
        assertThatThrownBy(() -> DumpSettings.read(sidecar)).isInstanceOf(BadDumpException.class)
                .hasMessageContaining("target is given twice in acme.dump.properties")
                .hasMessageContaining("line 1 'target = 16.0'").hasMessageContaining("line 4 'target=17.0'");
    }

    @Test
    void anEnvironmentVariableGivenTwiceIsRefusedWithoutShowingItsValues() throws Exception {
        Path sidecar = tmp.resolve("acme.dump.properties");
        Files.writeString(sidecar, "env.SECRET_TOKEN = first-secret\nenv.SECRET_TOKEN = second-secret\n");
        assertThatThrownBy(() -> DumpSettings.read(sidecar)).isInstanceOf(BadDumpException.class)
                .hasMessageContaining("env.SECRET_TOKEN is given twice").hasMessageContaining("line 1 and line 2")
                .hasMessageNotContaining("secret-");
    }
}

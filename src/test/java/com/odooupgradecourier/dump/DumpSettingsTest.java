package com.odooupgradecourier.dump;

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
                .hasMessageContaining("(line 1 and line 4)").hasMessageNotContaining("16.0").hasMessageNotContaining("17.0");
    }

    /** An aim the platform does not take (PRODUCTION, prod) is refused at admission, not held and then refused by the platform. */
    @Test
    void anAimOtherThanTestOrProductionIsRefused() throws Exception {
        Path dump = Files.writeString(tmp.resolve("acme.sql"), "-- PostgreSQL database dump\n");
        Files.writeString(tmp.resolve("acme.sql.properties"), "aim = PRODUCTION\nsource = acme\n");
        org.apache.camel.Exchange ex = new org.apache.camel.support.DefaultExchange(new org.apache.camel.impl.DefaultCamelContext());
        ex.setProperty("dumpPath", dump.toString());
        assertThatThrownBy(() -> new DumpSettings(java.util.Map.of(), 30_000, null).apply(ex)).isInstanceOf(BadDumpException.class)
                .hasMessageContaining("aim in acme.sql.properties is 'PRODUCTION': test or production");
    }

    /** A contract is a secret: given twice, neither value is shown (the record, the log and the event carry the message). */
    @Test
    void aContractGivenTwiceIsRefusedWithoutShowingEither() throws Exception {
        Path sidecar = tmp.resolve("acme.dump.properties");
        Files.writeString(sidecar, "contract = M111-first-contract\ncontract = M222-second-contract\n");
        assertThatThrownBy(() -> DumpSettings.read(sidecar)).isInstanceOf(BadDumpException.class)
                .hasMessageContaining("contract is given twice").hasMessageNotContaining("M111").hasMessageNotContaining("M222");
    }

    /** A word alone on its line (a password pasted where it should not be) is not named as an unknown setting. */
    @Test
    void aLineThatIsNotASettingIsCountedNotShown() throws Exception {
        Path dump = Files.writeString(tmp.resolve("acme.dump"), "PGDMP");
        Files.writeString(tmp.resolve("acme.dump.properties"), "target = 16.0\nhunter2-naked-secret-line\ncolour = blue\n");
        org.apache.camel.Exchange ex = new org.apache.camel.support.DefaultExchange(new org.apache.camel.impl.DefaultCamelContext());
        ex.setProperty("dumpPath", dump.toString());
        assertThatThrownBy(() -> new DumpSettings(java.util.Map.of(), 1000, null).apply(ex)).isInstanceOf(BadDumpException.class)
                .hasMessageContaining("unknown setting(s) [colour] and 1 line(s) that are not settings")
                .hasMessageNotContaining("hunter2");
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

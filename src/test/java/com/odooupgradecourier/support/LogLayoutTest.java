package com.odooupgradecourier.support;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.StringLayout;
import org.apache.logging.log4j.core.impl.Log4jLogEvent;
import org.apache.logging.log4j.message.SimpleMessage;
import org.junit.jupiter.api.Test;

/**
 * What the log writes of a name or a platform's message it did not choose: one line, no terminal escape sequences, no key.
 * The service's own layout (src/main/resources/log4j2.xml), applied to a message as a route would log it.
 */
class LogLayoutTest {
    private static String line(String message) {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        StringLayout layout = (StringLayout) ctx.getConfiguration().getAppender("console").getLayout();
        return layout.toSerializable(Log4jLogEvent.newBuilder().setLoggerName("courier").setLevel(Level.INFO)
                .setMessage(new SimpleMessage(message)).build());
    }

    @Test
    void aNameCannotForgeALineOrRewriteTheTerminal() {
        String line = line("cr\r FORGED\u001b[2K\u001b[31mred\u009b1m.sql: received\nFORGED INFO line");
        assertThat(line.strip()).doesNotContain("\n").doesNotContain("\r").doesNotContain("\u001b").doesNotContain("\u009b")
                .contains("FORGED?[2K?[31mred?1m.sql: received\\nFORGED INFO line");
    }

    @Test
    void aKeyInAMessageIsMasked() {
        assertThat(line("GET https://upgrade.odoo.com/database/v1/status?key=s3cr3tK3y&request=12")).doesNotContain("s3cr3tK3y")
                .contains("key=***");
    }
}

package com.odooupgradecourier.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The token goes over plain http only to this machine, decided on the address itself, never on how a name begins. */
class JsonRpcHostTest {
    @TempDir
    Path tmp;

    @Test
    void aNameThatBeginsLikeALoopbackAddressIsANameAndGetsNoTokenOverPlainHttp() throws Exception {
        JsonRpc rpc = new JsonRpc("http://127.0.0.1:8070", tmp);
        assertThat(rpc.hostUrl("127.0.0.1:19275")).isEqualTo("http://127.0.0.1:19275");
        assertThat(rpc.hostUrl("[::1]:19275")).isEqualTo("http://[::1]:19275");
        assertThat(rpc.hostUrl("localhost:19275")).isEqualTo("http://localhost:19275");
        assertThatThrownBy(() -> rpc.hostUrl("127.attacker.example:19275")).isInstanceOf(UnexpectedAnswerException.class)
                .hasMessageContaining("not on this machine");
        assertThatThrownBy(() -> rpc.hostUrl("127.0.0.1.attacker.example")).isInstanceOf(UnexpectedAnswerException.class);
        assertThatThrownBy(() -> new JsonRpc("http://127.attacker.example:8070", tmp)).hasMessageContaining("must be an https URL");
        // over https any host name is fine: the certificate names it
        assertThat(new JsonRpc("https://upgrade.odoo.com", tmp).hostUrl("upgrade-eu2.odoo.com")).isEqualTo("https://upgrade-eu2.odoo.com");
    }
}

package com.odooupgradecourier.transfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.odooupgradecourier.TestSftpServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.apache.sshd.common.kex.KeyEncapsulationMethod;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PreparedSntrup761Test {
    @TempDir
    Path tmp;

    @Test
    void eachKeyExchangeTakesAKeyPairMadeAheadItsOwnAndAgreesWithTheServersSide() {
        PreparedSntrup761.prepare();
        await().atMost(Duration.ofSeconds(30)).until(() -> PreparedSntrup761.next() != null);
        var ahead = PreparedSntrup761.next();
        KeyEncapsulationMethod.Client a = PreparedSntrup761.KEM.getClient();
        a.init();
        assertThat(a.getPublicKey()).as("the pair made ahead").isEqualTo(
                ((org.bouncycastle.pqc.crypto.ntruprime.SNTRUPrimePublicKeyParameters) ahead.getPublic()).getEncoded());
        KeyEncapsulationMethod.Client b = PreparedSntrup761.KEM.getClient();
        b.init();
        assertThat(b.getPublicKey()).as("never the same pair twice").isNotEqualTo(a.getPublicKey());

        // MINA's server side of sntrup761x25519: the client's key, then its x25519 key
        KeyEncapsulationMethod.Server server = org.apache.sshd.common.kex.BuiltinKEM.sntrup761.getServer();
        byte[] x25519 = new byte[32];
        byte[] offered = Arrays.copyOf(a.getPublicKey(), a.getPublicKey().length + x25519.length);
        assertThat(server.init(offered)).hasSize(32);
        assertThat(a.extractSecret(server.getEncapsulation())).isEqualTo(server.getSecret());
    }

    @Test
    void connectsToAServerThatOffersOnlySntrup761() throws Exception {
        try (TestSftpServer server = new TestSftpServer(tmp)) {
            server.onlyKeyExchange("sntrup761x25519-sha512@openssh.com");
            Files.writeString(server.root.resolve("f"), "xyz");
            int before = PreparedSntrup761.TAKEN.get();
            for (int i = 0; i < 2; i++) {
                try (ParallelSftp sftp = ParallelSftp.connect("127.0.0.1", server.port(), server.user, server.privateKey,
                        server.knownHosts, Duration.ofSeconds(30))) {
                    assertThat(sftp.size("/f")).isEqualTo(3);
                }
            }
            assertThat(PreparedSntrup761.TAKEN.get() - before).as("one key pair per connection, from here").isEqualTo(2);
        }
    }
}

package com.odooupgradecourier.transfer;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.sshd.client.ClientBuilder;
import org.apache.sshd.common.digest.BuiltinDigests;
import org.apache.sshd.common.digest.Digest;
import org.apache.sshd.common.kex.AbstractDH;
import org.apache.sshd.common.kex.BuiltinDHFactories;
import org.apache.sshd.common.kex.BuiltinKEM;
import org.apache.sshd.common.kex.DHFactory;
import org.apache.sshd.common.kex.KeyEncapsulationMethod;
import org.apache.sshd.common.kex.KeyExchangeFactory;
import org.apache.sshd.common.kex.MontgomeryCurve;
import org.apache.sshd.common.kex.XDH;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.pqc.crypto.ntruprime.SNTRUPrimeKEMExtractor;
import org.bouncycastle.pqc.crypto.ntruprime.SNTRUPrimeKeyGenerationParameters;
import org.bouncycastle.pqc.crypto.ntruprime.SNTRUPrimeKeyPairGenerator;
import org.bouncycastle.pqc.crypto.ntruprime.SNTRUPrimeParameters;
import org.bouncycastle.pqc.crypto.ntruprime.SNTRUPrimePrivateKeyParameters;

/**
 * The post-quantum key exchange OpenSSH's sshd prefers ({@code sntrup761x25519-sha512}, under both its names), as MINA
 * SSHD does it but with the costly part made ahead: the client's sntrup761 key pair (40 ms of processor warm, a few
 * hundred while the JVM is cold, in Bouncy Castle's Java) is made on a background thread before a connection asks for it,
 * so the handshake does not wait for it. Each key pair serves one key exchange only and is then forgotten, as one made on
 * the spot would be; when none is ready (connections at the same moment), one is made on the spot.
 */
public final class PreparedSntrup761 implements DHFactory {
    /** Key pairs ready for a key exchange: one per transfer that may connect at once is plenty. */
    private static final BlockingQueue<AsymmetricCipherKeyPair> READY = new ArrayBlockingQueue<>(2);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ExecutorService MAKER = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
            r -> {
                Thread t = new Thread(r, "sntrup761-keys");
                t.setDaemon(true);
                t.setPriority(Thread.MIN_PRIORITY);
                return t;
            });

    static {
        ((ThreadPoolExecutor) MAKER).allowCoreThreadTimeOut(true);
    }

    private final String name;

    private PreparedSntrup761(String name) {
        this.name = name;
    }

    /**
     * {@code factories} (a client's key exchanges, in its order of preference) with sntrup761x25519 under both its names
     * made by this class; and key pairs begin to be made for it.
     */
    public static List<KeyExchangeFactory> in(List<KeyExchangeFactory> factories) {
        List<KeyExchangeFactory> out = new ArrayList<>(factories.size());
        for (KeyExchangeFactory f : factories) {
            boolean sntrup = f.getName().equals(BuiltinDHFactories.sntrup761x25519.getName())
                    || f.getName().equals(BuiltinDHFactories.sntrup761x25519_openssh.getName());
            out.add(sntrup ? ClientBuilder.DH2KEX.apply(new PreparedSntrup761(f.getName())) : f);
        }
        prepare();
        return out;
    }

    /** Makes key pairs in the background until {@link #READY} is full. */
    public static void prepare() {
        if (READY.remainingCapacity() > 0) {
            MAKER.execute(() -> {
                while (READY.remainingCapacity() > 0) {
                    if (!READY.offer(generate())) {
                        return;
                    }
                }
            });
        }
    }

    private static AsymmetricCipherKeyPair generate() {
        SNTRUPrimeKeyPairGenerator generator = new SNTRUPrimeKeyPairGenerator();
        generator.init(new SNTRUPrimeKeyGenerationParameters(RANDOM, SNTRUPrimeParameters.sntrup761));
        return generator.generateKeyPair();
    }

    /** How many key exchanges took a key pair here (for tests). */
    static final java.util.concurrent.atomic.AtomicInteger TAKEN = new java.util.concurrent.atomic.AtomicInteger();

    /** The key pair the next key exchange takes, if one is ready (for tests). */
    static AsymmetricCipherKeyPair next() {
        return READY.peek();
    }

    /** A key pair made ahead (then another is begun), or one made now. Never the same one twice. */
    static AsymmetricCipherKeyPair take() {
        TAKEN.incrementAndGet();
        AsymmetricCipherKeyPair pair = READY.poll();
        prepare();
        return pair != null ? pair : generate();
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public boolean isSupported() {
        return BuiltinDHFactories.sntrup761x25519.isSupported();
    }

    @Override
    public boolean isGroupExchange() {
        return false;
    }

    @Override
    public AbstractDH create(Object... params) throws Exception {
        if (params != null && params.length > 0) {
            throw new IllegalArgumentException("No accepted parameters for " + name);
        }
        return new XDH(MontgomeryCurve.x25519, true) {
            @Override
            public KeyEncapsulationMethod getKeyEncapsulation() {
                return KEM;
            }

            @Override
            public Digest getHash() throws Exception {
                return BuiltinDigests.sha512.create();
            }
        };
    }

    /** sntrup761 with a prepared key pair on the client's side; the server's side is MINA's own (a client never uses it). */
    static final KeyEncapsulationMethod KEM = new KeyEncapsulationMethod() {
        @Override
        public Client getClient() {
            return new PreparedClient();
        }

        @Override
        public Server getServer() {
            return BuiltinKEM.sntrup761.getServer();
        }
    };

    private static final class PreparedClient implements KeyEncapsulationMethod.Client {
        private SNTRUPrimeKEMExtractor extractor;
        private byte[] publicKey;

        @Override
        public void init() {
            AsymmetricCipherKeyPair pair = take();
            extractor = new SNTRUPrimeKEMExtractor((SNTRUPrimePrivateKeyParameters) pair.getPrivate());
            publicKey = ((org.bouncycastle.pqc.crypto.ntruprime.SNTRUPrimePublicKeyParameters) pair.getPublic()).getEncoded();
        }

        @Override
        public byte[] getPublicKey() {
            return publicKey;
        }

        @Override
        public byte[] extractSecret(byte[] encapsulated) {
            if (encapsulated.length != extractor.getEncapsulationLength()) {
                throw new IllegalArgumentException("sntrup761 encapsulation of the wrong length: " + encapsulated.length);
            }
            return extractor.extractSecret(encapsulated);
        }

        @Override
        public int getEncapsulationLength() {
            return extractor.getEncapsulationLength();
        }
    }
}

package com.odooupgradecourier.support;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Request keys at rest: with {@code courier.store.secret} set, a key is stored sealed with AES-GCM (a fresh IV
 * each time; the AES key is the SHA-256 of the secret, so the secret should be long and random), readable only
 * with the same secret. Without a secret, keys are stored as they are (the store is then the owner's alone).
 */
public final class KeyCipher {
    /** No secret: keys are stored as they are. */
    public static final KeyCipher NONE = new KeyCipher(null);
    private static final String PREFIX = "aesgcm:";
    private static final int IV_BYTES = 12;
    private static final int TAG_BITS = 128;
    private final SecretKeySpec key;
    private final SecureRandom random = new SecureRandom();

    private KeyCipher(SecretKeySpec key) {
        this.key = key;
    }

    /** A cipher for {@code secret}, or {@link #NONE} when it is empty. */
    public static KeyCipher of(String secret) {
        if (secret == null || secret.isBlank()) {
            return NONE;
        }
        try {
            byte[] k = MessageDigest.getInstance("SHA-256").digest(secret.trim().getBytes(StandardCharsets.UTF_8));
            return new KeyCipher(new SecretKeySpec(k, "AES"));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether a stored value is sealed. */
    public static boolean isSealed(String stored) {
        return stored != null && stored.startsWith(PREFIX);
    }

    /** The value to store for a key. */
    public String seal(String plain) {
        if (key == null || plain == null) {
            return plain;
        }
        try {
            byte[] iv = new byte[IV_BYTES];
            random.nextBytes(iv);
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, iv));
            byte[] sealed = c.doFinal(plain.getBytes(StandardCharsets.UTF_8));
            byte[] out = new byte[IV_BYTES + sealed.length];
            System.arraycopy(iv, 0, out, 0, IV_BYTES);
            System.arraycopy(sealed, 0, out, IV_BYTES, sealed.length);
            return PREFIX + Base64.getEncoder().encodeToString(out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot seal a request key: " + e.getMessage(), e);
        }
    }

    /** The key a stored value holds. */
    public String open(String stored) {
        if (!isSealed(stored)) {
            return stored;
        }
        if (key == null) {
            throw new IllegalStateException("a request key in the store is encrypted: set courier.store.secret (COURIER_STORE_SECRET)");
        }
        try {
            byte[] in = Base64.getDecoder().decode(stored.substring(PREFIX.length()));
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, in, 0, IV_BYTES));
            return new String(c.doFinal(in, IV_BYTES, in.length - IV_BYTES), StandardCharsets.UTF_8);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalStateException("a request key in the store cannot be read with courier.store.secret: is it the secret "
                    + "it was written with?", e);
        }
    }
}

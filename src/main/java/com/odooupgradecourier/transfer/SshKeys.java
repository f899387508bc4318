package com.odooupgradecourier.transfer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;

/** An ed25519 key pair: the private key in OpenSSH format, the public key as an authorized_keys line. */
public record SshKeys(byte[] privateKey, String publicKey) {

    public static SshKeys generate(String comment) throws GeneralSecurityException, IOException {
        KeyPair pair = KeyUtils.generateKeyPair("ssh-ed25519", 256);
        ByteArrayOutputStream prv = new ByteArrayOutputStream();
        OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(pair, comment, null, prv);
        return new SshKeys(prv.toByteArray(), PublicKeyEntry.toString(pair.getPublic()) + " " + comment + "\n");
    }

    public byte[] publicKeyBytes() {
        return publicKey.getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public String toString() {
        return "SshKeys[" + publicKey.trim() + "]"; // never the private key
    }
}

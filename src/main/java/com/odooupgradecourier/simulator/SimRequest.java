package com.odooupgradecourier.simulator;

import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** One upgrade request as the simulated platform holds it. */
final class SimRequest {
    final long id;
    final String key;
    final String contract;
    final String email;
    final String target;
    final String aim;
    final String filename;
    final String timezone;
    final Instant createdAt = Instant.now();
    final Path dir;
    final boolean failing;
    final List<PublicKey> sshKeys = new CopyOnWriteArrayList<>();

    volatile Instant processedAt;
    /** Set once the upgraded archive has been written (or the upgrade failed). */
    volatile boolean finished;
    volatile String sha256;
    volatile String error;

    SimRequest(long id, String key, String contract, String email, String target, String aim,
               String filename, String timezone, Path dir, boolean failing) {
        this.id = id;
        this.key = key;
        this.contract = contract;
        this.email = email;
        this.target = target;
        this.aim = aim;
        this.filename = filename;
        this.timezone = timezone;
        this.dir = dir;
        this.failing = failing;
    }

    /** The file the customer uploads (over HTTPS or as the SFTP {@code shared_file}). */
    Path uploadFile() {
        return dir.resolve("sftp").resolve(sharedFile());
    }

    /** The upgraded archive; visible over SFTP as {@code upgraded_<shared_file>} once done. */
    Path upgradedFile() {
        return dir.resolve("sftp").resolve("upgraded_" + sharedFile());
    }

    /** The file name the platform uses on its side: the informative {@code filename}, made safe. */
    String sharedFile() {
        String safe = filename.replaceAll("[^A-Za-z0-9._-]", "_");
        return safe.isEmpty() || safe.startsWith(".") ? "dump" + safe : safe;
    }

    String sftpUser() {
        return "user_" + id;
    }
}

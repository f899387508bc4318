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
    final Instant createdAt;
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
        this(id, key, contract, email, target, aim, filename, timezone, dir, failing, Instant.now());
    }

    private SimRequest(long id, String key, String contract, String email, String target, String aim,
                       String filename, String timezone, Path dir, boolean failing, Instant createdAt) {
        this.createdAt = createdAt;
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

    /** Keeps the request in its folder ({@code request.json}), so a restarted simulator still knows it. */
    synchronized void save() throws java.io.IOException {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("id", id);
        m.put("key", key);
        m.put("contract", contract);
        m.put("email", email);
        m.put("target", target);
        m.put("aim", aim);
        m.put("filename", filename);
        m.put("timezone", timezone);
        m.put("failing", failing);
        m.put("created_at", createdAt.toString());
        m.put("processed_at", processedAt == null ? null : processedAt.toString());
        m.put("finished", finished);
        m.put("sha256", sha256);
        m.put("error", error);
        m.put("ssh_keys", sshKeys.stream().map(org.apache.sshd.common.config.keys.PublicKeyEntry::toString).toList());
        java.nio.file.Path tmp = dir.resolve("request.json.tmp");
        JSON.writeValue(tmp.toFile(), m);
        java.nio.file.Files.move(tmp, dir.resolve("request.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** A request kept in {@code dir} by {@link #save()}. */
    static SimRequest load(Path dir) throws Exception {
        com.fasterxml.jackson.databind.JsonNode m = JSON.readTree(dir.resolve("request.json").toFile());
        SimRequest r = new SimRequest(m.get("id").asLong(), m.get("key").asText(), text(m, "contract"), text(m, "email"),
                text(m, "target"), text(m, "aim"), text(m, "filename"), text(m, "timezone"), dir, m.get("failing").asBoolean(),
                Instant.parse(m.get("created_at").asText()));
        r.processedAt = m.hasNonNull("processed_at") ? Instant.parse(m.get("processed_at").asText()) : null;
        r.finished = m.get("finished").asBoolean();
        r.sha256 = text(m, "sha256");
        r.error = text(m, "error");
        for (com.fasterxml.jackson.databind.JsonNode k : m.get("ssh_keys")) {
            r.sshKeys.addAll(SimSftpServer.parseAuthorizedKeys(k.asText()));
        }
        return r;
    }

    private static String text(com.fasterxml.jackson.databind.JsonNode m, String field) {
        return m.hasNonNull(field) ? m.get(field).asText() : null;
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
}

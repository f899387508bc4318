package com.odooupgradecourier.simulator;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stand-in for Odoo's Upgrade platform ({@code https://upgrade.odoo.com/database/v1/}): the HTTP API
 * and a real SFTP server, on loopback by default. The service reaches it only over HTTP and SFTP,
 * exactly as it reaches the real platform.
 *
 * <p>The "upgraded" archive is a zip (stored, not deflated) holding {@code upgrade.json} (target,
 * sha256 and size of the uploaded dump) and {@code dump.sql}, the uploaded bytes unchanged: a test can
 * check that what is delivered derives from what was sent. An uploaded Odoo zip (plain-SQL {@code dump.sql} and
 * {@code filestore/}) comes back as that zip, its {@code dump.sql} ending with a marker table of the target, so that
 * the upgraded database can be restored and checked.
 */
public final class UpgradePlatformSimulator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UpgradePlatformSimulator.class);
    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);
    private static final String API = "/database/v1/";
    private static final String FILES = "/database/eu1/";

    private final SimulatorConfig config;
    private final ObjectMapper json = new ObjectMapper();
    private final SecureRandom random = new SecureRandom();
    private final AtomicLong nextId = new AtomicLong(10534);
    private final Map<Long, SimRequest> requests = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    private final ExecutorService workers = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "simulator-upgrade");
        t.setDaemon(true);
        return t;
    });
    private final Holds holds = new Holds();
    private final Map<String, java.util.Deque<Injected>> injected = new ConcurrentHashMap<>();
    private final Map<String, java.util.Deque<Injected>> injectedAfter = new ConcurrentHashMap<>();
    private final AtomicInteger uploadsNow = new AtomicInteger();
    private final AtomicInteger uploadsMax = new AtomicInteger();
    private final AtomicInteger transfersNow = new AtomicInteger();
    private final AtomicInteger transfersMax = new AtomicInteger();
    private final AtomicLong breakDownloadAfter = new AtomicLong(-1);
    private final AtomicInteger truncateDownloads = new AtomicInteger();
    private final AtomicInteger apiCalls = new AtomicInteger();
    private final AtomicInteger callsNow = new AtomicInteger();
    private volatile int unavailableEvery;
    private final AtomicLong archiveBytesServed = new AtomicLong();
    private HttpServer http;
    private SimSftpServer sftp;

    public UpgradePlatformSimulator(SimulatorConfig config) {
        this.config = config;
    }

    public UpgradePlatformSimulator start() throws IOException {
        Files.createDirectories(config.storageDir);
        loadRequests();
        sftp = new SimSftpServer(this, config);
        sftp.start();
        http = HttpServer.create(new InetSocketAddress(config.bindHost, config.httpPort), 64);
        http.createContext("/", this::handle);
        http.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "simulator-http");
            t.setDaemon(true);
            return t;
        }));
        http.start();
        LOG.info("Upgrade platform simulator listening on {} (API) and sftp://{}:{} (SFTP)",
                apiUrl(), config.bindHost, sftpPort());
        return this;
    }

    /**
     * The requests kept under the storage folder by an earlier run: known again, numbering goes on after them,
     * and an upgrade that was running goes on.
     */
    private void loadRequests() throws IOException {
        try (var dirs = Files.list(config.storageDir)) {
            for (Path dir : dirs.filter(d -> Files.isRegularFile(d.resolve("request.json"))).toList()) {
                try {
                    SimRequest r = SimRequest.load(dir);
                    requests.put(r.id, r);
                    nextId.accumulateAndGet(r.id + 1, Math::max);
                    if (r.processedAt != null && !r.finished) {
                        workers.submit(() -> upgrade(r));
                    }
                } catch (Exception e) {
                    LOG.warn("simulator: the request kept in {} cannot be read: {}", dir, e.toString());
                }
            }
        }
        if (!requests.isEmpty()) {
            LOG.info("simulator: {} request(s) kept from an earlier run, numbering goes on at {}", requests.size(), nextId.get());
        }
    }

    @Override
    public void close() {
        releaseAll();
        if (http != null) {
            http.stop(0);
        }
        if (sftp != null) {
            sftp.stop();
        }
        workers.shutdownNow();
    }

    /** The base URL of the API, e.g. {@code http://127.0.0.1:8070/database/v1}. */
    public String apiUrl() {
        return "http://" + config.bindHost + ":" + http.getAddress().getPort() + API.substring(0, API.length() - 1);
    }

    public int httpPort() {
        return http.getAddress().getPort();
    }

    public int sftpPort() {
        return sftp.port();
    }

    public SimSftpServer sftpServer() {
        return sftp;
    }

    /** How many API calls were made in all (whatever their answer). */
    public int calls() {
        return calls.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    /** How many times an API method was called (whatever its answer), e.g. {@code calls("create")}. */
    public int calls(String method) {
        AtomicInteger n = calls.get(method);
        return n == null ? 0 : n.get();
    }

    /** How many requests were created for the given informative file name. */
    public long createdFor(String filename) {
        return requests.values().stream().filter(r -> r.filename.equals(filename)).count();
    }

    /** The parameters a request was created with, for tests: contract, email, target, aim, filename, timezone. */
    public Map<String, String> createdWith(long requestId) {
        SimRequest r = requests.get(requestId);
        if (r == null) {
            return Map.of();
        }
        Map<String, String> m = new LinkedHashMap<>();
        m.put("contract", r.contract);
        m.put("email", r.email);
        m.put("target", r.target);
        m.put("aim", r.aim);
        m.put("filename", r.filename);
        m.put("timezone", r.timezone);
        return m;
    }

    /**
     * Fault injection for tests: from now on, calls reaching {@code point} wait there until
     * {@link #release(String)}. Points: {@code upload} (before the body is read), {@code upload-half}
     * (half of it read), {@code process}, {@code status} (any), {@code status-draft}, {@code status-processing} (of a
     * request that left draft), {@code download} (before the upgraded archive is
     * sent), {@code download-half} (half of it sent), {@code download-end} (every byte sent, the response
     * not yet ended).
     */
    public void holdAt(String point) {
        holds.holdAt(point);
    }

    /** How many calls are waiting at {@code point} now. */
    public int heldAt(String point) {
        return holds.heldAt(point);
    }

    /** Releases every call waiting at any point. */
    public void releaseAll() {
        holds.releaseAll();
    }

    public void release(String point) {
        holds.release(point);
    }

    void pauseAt(String point) {
        holds.pauseAt(point);
    }

    /** An answer given instead of the real one (fault injection). */
    private record Injected(int status, String contentType, String body, String location) {
    }

    /**
     * Fault injection: the next {@code times} calls of {@code method} (an API method, or {@code download}
     * for the upgraded archive) are answered with this status, content type and body instead.
     */
    public void inject(String method, int times, int status, String contentType, String body) {
        java.util.Deque<Injected> queue = injected.computeIfAbsent(method, m -> new java.util.concurrent.ConcurrentLinkedDeque<>());
        for (int i = 0; i < times; i++) {
            queue.add(new Injected(status, contentType, body, null));
        }
    }

    /** Fault injection: the next call of {@code method} (or {@code download}) is answered with a redirect to {@code location}. */
    public void injectRedirect(String method, int status, String location) {
        injected.computeIfAbsent(method, m -> new java.util.concurrent.ConcurrentLinkedDeque<>())
                .add(new Injected(status, "text/html", "<html>moved</html>", location));
    }

    /**
     * Fault injection: the next {@code times} calls of {@code method} are carried out, but answered with this status,
     * content type and body instead (an answer lost on the way back: the platform did what was asked).
     */
    public void injectAfterHandling(String method, int times, int status, String contentType, String body) {
        java.util.Deque<Injected> queue = injectedAfter.computeIfAbsent(method, m -> new java.util.concurrent.ConcurrentLinkedDeque<>());
        for (int i = 0; i < times; i++) {
            queue.add(new Injected(status, contentType, body, null));
        }
    }

    /** Ends the answers injected for {@code method} that were not given yet. */
    public void clearInjected(String method) {
        java.util.Deque<Injected> queue = injected.get(method);
        if (queue != null) {
            queue.clear();
        }
    }

    /** How many requests were created since start. */
    public int requestCount() {
        return requests.size();
    }

    /** Calls being handled now (a client that died mid-call leaves its call to finish here). */
    public int callsInProgress() {
        return callsNow.get();
    }

    private boolean answerInjected(HttpExchange ex, String method) throws IOException {
        return answerFrom(ex, injected.get(method));
    }

    private boolean answerFrom(HttpExchange ex, java.util.Deque<Injected> queue) throws IOException {
        Injected answer = queue == null ? null : queue.poll();
        if (answer == null) {
            return false;
        }
        drain(ex);
        byte[] out = answer.body().getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", answer.contentType());
        if (answer.location() != null) {
            ex.getResponseHeaders().set("Location", answer.location());
        }
        ex.sendResponseHeaders(answer.status(), out.length == 0 ? -1 : out.length);
        if (out.length > 0) {
            ex.getResponseBody().write(out);
        }
        return true;
    }

    /** The most HTTP uploads and archive downloads that were in progress at the same time, together. */
    public int maxConcurrentTransfers() {
        return transfersMax.get();
    }

    /** The most HTTP uploads that were in progress at the same time. */
    public int maxConcurrentUploads() {
        return uploadsMax.get();
    }

    /** The keys of every request created: for tests that check none of them leaked. */
    public List<String> keys() {
        return requests.values().stream().map(r -> r.key).toList();
    }

    /** Fault injection: the next archive download breaks (connection closed) after {@code bytes} bytes, once. */
    public void breakDownloadOnceAfter(long bytes) {
        breakDownloadAfter.set(bytes);
    }

    /** Bytes of upgraded archives sent over HTTP since start (a resumed download adds only what was missing). */
    public long archiveBytesServed() {
        return archiveBytesServed.get();
    }

    public void unavailableRate(double rate) {
        config.unavailableRate = rate;
    }

    /** Fault injection: every {@code n}th API call (counted across methods) is answered with HTTP 503; 0 ends it. */
    public void unavailableEvery(int n) {
        unavailableEvery = n;
    }

    /**
     * Fault injection: the next {@code times} archive downloads that start at byte 0 are answered 200 with no
     * Content-Length (chunked) and end cleanly after half the archive, as a server or proxy that cuts a
     * response short without saying so.
     */
    public void truncateDownloads(int times) {
        truncateDownloads.set(times);
    }

    SimRequest request(long id) {
        return requests.get(id);
    }

    // ---------------------------------------------------------------- HTTP

    private void handle(HttpExchange ex) throws IOException {
        callsNow.incrementAndGet();
        try (ex) {
            String path = ex.getRequestURI().getPath();
            if (path.startsWith(API)) {
                String method = path.substring(API.length());
                calls.computeIfAbsent(method, m -> new AtomicInteger()).incrementAndGet();
                int every = unavailableEvery;
                boolean nth = every > 0 && apiCalls.incrementAndGet() % every == 0;
                if (nth || config.unavailableRate > 0 && ThreadLocalRandom.current().nextDouble() < config.unavailableRate) {
                    drain(ex);
                    sendHtml(ex, 503, "<html><head><title>503 Service Unavailable</title></head><body>"
                            + "<h1>503 Service Unavailable</h1><p>The server is temporarily unable to service your request."
                            + "</p></body></html>");
                    return;
                }
                if (answerInjected(ex, method)) {
                    return;
                }
                api(ex, method);
            } else if (path.startsWith(FILES)) {
                files(ex, path.substring(FILES.length()));
            } else {
                sendHtml(ex, 404, "<html><body><h1>404 Not Found</h1></body></html>");
            }
        } catch (RuntimeException e) {
            LOG.warn("simulator: {} {} failed: {}", ex.getRequestMethod(), ex.getRequestURI().getPath(), e.toString());
            sendHtml(ex, 500, "<html><body><h1>500 Internal Server Error</h1></body></html>");
        } finally {
            callsNow.decrementAndGet();
        }
    }

    private void api(HttpExchange ex, String method) throws IOException {
        Map<String, String> params = HttpForms.query(ex.getRequestURI().getRawQuery());
        Map<String, String> files = new LinkedHashMap<>();
        if (!method.equals("upload")) {
            String type = String.valueOf(ex.getRequestHeaders().getFirst("Content-Type")).toLowerCase(Locale.ROOT);
            byte[] body = HttpForms.readLimited(ex.getRequestBody());
            if (type.startsWith("application/x-www-form-urlencoded")) {
                HttpForms.parseUrlEncoded(new String(body, StandardCharsets.UTF_8), params);
            } else if (type.startsWith("multipart/form-data")) {
                HttpForms.parseMultipart(body, ex.getRequestHeaders().getFirst("Content-Type"), params, files);
            }
        }
        Map<String, Object> answer = switch (method) {
            case "create" -> create(params);
            case "upload" -> withRequest(params, r -> upload(r, ex.getRequestBody(), contentLength(ex)));
            case "request_sftp_access" -> withRequest(params, r -> sftpAccess(r, files.get("ssh_keys")));
            case "process" -> withRequest(params, r -> {
                pauseAt("process");
                return process(r);
            });
            case "status" -> withRequest(params, r -> {
                pauseAt("status");
                pauseAt(r.processedAt == null ? "status-draft" : "status-processing");
                return answer(List.of(), describe(r));
            });
            default -> null;
        };
        if (answer == null) {
            sendHtml(ex, 404, "<html><body><h1>404 Not Found</h1></body></html>");
            return;
        }
        // a refused upload is answered once its body is read, as an HTTP server does: no connection reset
        drain(ex);
        java.util.Deque<Injected> after = injectedAfter.get(method);
        if (after != null && !after.isEmpty() && answerFrom(ex, after)) {
            return;
        }
        byte[] out = json.writeValueAsBytes(answer);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(200, out.length);
        ex.getResponseBody().write(out);
    }

    private interface RequestAction {
        Map<String, Object> apply(SimRequest r) throws IOException;
    }

    private Map<String, Object> withRequest(Map<String, String> params, RequestAction action) throws IOException {
        List<Map<String, Object>> failures = new ArrayList<>();
        for (String p : List.of("key", "request")) {
            if (blank(params.get(p))) {
                failures.add(failure("PARAMETER:MISSING", "Missing required parameter \"" + p + "\"", "value", p));
            }
        }
        if (!failures.isEmpty()) {
            return answer(failures, null);
        }
        SimRequest r = null;
        try {
            r = requests.get(Long.parseLong(params.get("request").trim()));
        } catch (NumberFormatException e) {
            // unknown: same answer as a wrong key
        }
        if (r == null || !r.key.equals(params.get("key"))) {
            return answer(List.of(failure("REQUEST:NOT_FOUND",
                    "Can not find request " + params.get("request") + " with that key", "value", params.get("request"))), null);
        }
        return action.apply(r);
    }

    private Map<String, Object> create(Map<String, String> p) throws IOException {
        pauseAt("create");
        List<Map<String, Object>> failures = new ArrayList<>();
        for (String name : List.of("contract", "email", "target", "aim", "filename")) {
            if (blank(p.get(name))) {
                failures.add(failure("PARAMETER:MISSING", "Missing required parameter \"" + name + "\"", "value", name));
            }
        }
        if (!blank(p.get("target")) && !config.targets.contains(p.get("target"))) {
            Map<String, Object> f = failure("TARGET:INVALID", "Invalid value \"" + p.get("target") + "\"", "value", p.get("target"));
            f.put("expected", new ArrayList<>(config.targets));
            failures.add(f);
        }
        if (!blank(p.get("aim")) && !List.of("test", "production").contains(p.get("aim"))) {
            Map<String, Object> f = failure("AIM:INVALID", "Invalid value \"" + p.get("aim") + "\"", "value", p.get("aim"));
            f.put("expected", List.of("test", "production"));
            failures.add(f);
        }
        if (!blank(p.get("contract")) && !config.contracts.contains(p.get("contract"))) {
            failures.add(failure("CONTRACT:NOT_FOUND", "Can not find contract " + p.get("contract"), "code", p.get("contract")));
        }
        if (!failures.isEmpty()) {
            return answer(failures, null);
        }
        long id = nextId.getAndIncrement();
        byte[] keyBytes = new byte[16];
        random.nextBytes(keyBytes);
        String key = Base64.getUrlEncoder().encodeToString(keyBytes);
        Path dir = config.storageDir.resolve(String.valueOf(id));
        Files.createDirectories(dir.resolve("sftp"));
        SimRequest r = new SimRequest(id, key, p.get("contract"), p.get("email"), p.get("target"), p.get("aim"),
                p.get("filename"), blank(p.get("timezone")) ? null : p.get("timezone"), dir,
                config.failingContracts.contains(p.get("contract")));
        r.save();
        requests.put(id, r);
        LOG.info("simulator: created request {} for {} (target {}, aim {})", id, r.filename, r.target, r.aim);
        return answer(List.of(), describe(r));
    }

    private Map<String, Object> upload(SimRequest r, InputStream body, long expected) throws IOException {
        pauseAt("upload");
        if (r.processedAt != null) {
            drainStream(body);
            return answer(List.of(failure("STATE:INVALID", "The request is no longer in state draft", "value", state(r))), null);
        }
        Path part = r.uploadFile().resolveSibling(r.sharedFile() + ".upload." + Thread.currentThread().getId());
        long received = 0;
        uploadsMax.accumulateAndGet(uploadsNow.incrementAndGet(), Math::max);
        transfersMax.accumulateAndGet(transfersNow.incrementAndGet(), Math::max);
        try (OutputStream out = Files.newOutputStream(part)) {
            byte[] buf = new byte[1 << 16];
            boolean halfway = false;
            int n;
            while ((n = body.read(buf)) > 0) {
                out.write(buf, 0, n);
                received += n;
                if (!halfway && expected > 0 && received >= expected / 2) {
                    halfway = true;
                    pauseAt("upload-half");
                }
            }
        } catch (IOException e) {
            Files.deleteIfExists(part);
            throw e;
        } finally {
            uploadsNow.decrementAndGet();
            transfersNow.decrementAndGet();
        }
        if (expected >= 0 && received != expected) {
            Files.deleteIfExists(part);
            return answer(List.of(failure("UPLOAD:INCOMPLETE", "Received " + received + " of " + expected + " bytes", "value", String.valueOf(received))), null);
        }
        Files.move(part, r.uploadFile(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        LOG.info("simulator: request {} received {} bytes over HTTPS", r.id, Files.size(r.uploadFile()));
        return answer(List.of(), null);
    }

    private Map<String, Object> sftpAccess(SimRequest r, String authorizedKeys) {
        String st = state(r);
        if (!st.equals("draft") && !st.equals("done")) {
            return answer(List.of(failure("STATE:INVALID",
                    "SFTP access is possible in state draft (upload) or done (download)", "value", st)), null);
        }
        if (authorizedKeys == null) {
            return answer(List.of(failure("PARAMETER:MISSING", "Missing required parameter \"ssh_keys\"", "value", "ssh_keys")), null);
        }
        List<java.security.PublicKey> keys;
        try {
            keys = SimSftpServer.parseAuthorizedKeys(authorizedKeys);
        } catch (Exception e) {
            keys = List.of();
        }
        if (keys.isEmpty()) {
            return answer(List.of(failure("SSH_KEYS:INVALID",
                    "ssh_keys must be a file of public keys in authorized_keys format", "value", "ssh_keys")), null);
        }
        r.sshKeys.addAll(keys);
        try {
            r.save();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Map<String, Object> access = new LinkedHashMap<>();
        access.put("hostname", config.bindHost);
        int sftpPort = config.publicSftpPort > 0 ? config.publicSftpPort : sftpPort();
        access.put("sftp_port", sftpPort);
        access.put("sftp_user", r.sftpUser());
        access.put("shared_file", r.sharedFile());
        access.put("request_id", r.id);
        access.put("sample_command", "sftp -P " + sftpPort + " " + r.sftpUser() + "@" + config.bindHost);
        return answer(List.of(), access);
    }

    private Map<String, Object> process(SimRequest r) throws IOException {
        if (r.processedAt != null) {
            // the documentation is silent on a repeated process: answer as strictly as for any call that needs draft
            return answer(List.of(failure("STATE:INVALID", "The request is no longer in state draft", "value", state(r))), null);
        }
        if (!Files.isRegularFile(r.uploadFile()) || Files.size(r.uploadFile()) == 0) {
            return answer(List.of(failure("DUMP:MISSING", "No database dump was uploaded for this request", "value", String.valueOf(r.id))), null);
        }
        r.processedAt = Instant.now();
        r.save();
        workers.submit(() -> upgrade(r));
        LOG.info("simulator: request {} is being upgraded to {}", r.id, r.target);
        return answer(List.of(), null);
    }

    /** Writes the "upgraded" archive (or records the failure) while the clock runs. */
    private void upgrade(SimRequest r) {
        try {
            if (!r.failing) {
                writeArchive(r);
                LOG.info("simulator: request {} has its upgraded archive", r.id);
            }
        } catch (Exception e) {
            r.error = e.toString();
            LOG.warn("simulator: request {} could not be upgraded: {}", r.id, e.toString());
        } finally {
            r.finished = true;
            try {
                r.save();
            } catch (IOException e) {
                LOG.warn("simulator: request {} could not be kept: {}", r.id, e.toString());
            }
        }
    }

    private void writeArchive(SimRequest r) throws Exception {
        Path dump = r.uploadFile();
        long size = Files.size(dump);
        CRC32 crc = new CRC32();
        java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(dump)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                crc.update(buf, 0, n);
                sha.update(buf, 0, n);
            }
        }
        r.sha256 = HexFormat.of().formatHex(sha.digest());
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("request", r.id);
        manifest.put("target", r.target);
        manifest.put("aim", r.aim);
        manifest.put("source_filename", r.filename);
        manifest.put("source_size", size);
        manifest.put("source_sha256", r.sha256);
        byte[] manifestBytes = json.writerWithDefaultPrettyPrinter().writeValueAsBytes(manifest);

        Path tmp = r.dir.resolve("upgraded.zip.tmp");
        if (isOdooZip(dump)) {
            writeUpgradedOdooZip(dump, tmp, manifestBytes, r.target);
            Files.move(tmp, r.upgradedFile(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return;
        }
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(tmp))) {
            zip.setMethod(ZipOutputStream.STORED);
            zip.putNextEntry(stored("upgrade.json", manifestBytes.length, crcOf(manifestBytes)));
            zip.write(manifestBytes);
            zip.closeEntry();
            zip.putNextEntry(stored("dump.sql", size, crc.getValue()));
            try (InputStream in = Files.newInputStream(dump)) {
                in.transferTo(zip);
            }
            zip.closeEntry();
        }
        Files.move(tmp, r.upgradedFile(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Whether an upload is an Odoo zip: a zip with {@code dump.sql} in plain SQL. */
    private static boolean isOdooZip(Path dump) {
        try (InputStream in = Files.newInputStream(dump)) {
            byte[] head = in.readNBytes(4);
            if (head.length < 4 || head[0] != 'P' || head[1] != 'K' || head[2] != 3 || head[3] != 4) {
                return false;
            }
        } catch (IOException e) {
            return false;
        }
        try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(dump.toFile())) {
            ZipEntry sql = zip.getEntry("dump.sql");
            if (sql == null) {
                return false;
            }
            try (InputStream in = zip.getInputStream(sql)) {
                return !new String(in.readNBytes(5), java.nio.charset.StandardCharsets.US_ASCII).equals("PGDMP");
            }
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * The upgrade of an Odoo zip, as far as a simulator goes: the same zip (dump.sql, filestore/) with upgrade.json, and
     * dump.sql ending with a table that says which version it was upgraded to ({@code courier_upgrade_marker}), so a
     * restore of it can be checked. Every entry is streamed.
     */
    private static void writeUpgradedOdooZip(Path dump, Path out, byte[] manifest, String target) throws IOException {
        String marker = "\n-- upgraded by the Odoo Upgrade Courier's simulator\n"
                + "CREATE TABLE public.courier_upgrade_marker (target text NOT NULL);\n"
                + "INSERT INTO public.courier_upgrade_marker (target) VALUES ('" + String.valueOf(target).replace("'", "''") + "');\n";
        try (java.util.zip.ZipFile in = new java.util.zip.ZipFile(dump.toFile());
             ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(out))) {
            zip.putNextEntry(new ZipEntry("upgrade.json"));
            zip.write(manifest);
            zip.closeEntry();
            for (java.util.Enumeration<? extends ZipEntry> en = in.entries(); en.hasMoreElements(); ) {
                ZipEntry e = en.nextElement();
                if (e.getName().equals("upgrade.json")) {
                    continue;
                }
                zip.putNextEntry(new ZipEntry(e.getName()));
                if (!e.isDirectory()) {
                    try (InputStream from = in.getInputStream(e)) {
                        from.transferTo(zip);
                    }
                    if (e.getName().equals("dump.sql")) {
                        zip.write(marker.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    }
                }
                zip.closeEntry();
            }
        }
    }

    private static ZipEntry stored(String name, long size, long crc) {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(size);
        e.setCompressedSize(size);
        e.setCrc(crc);
        return e;
    }

    private static long crcOf(byte[] b) {
        CRC32 c = new CRC32();
        c.update(b);
        return c.getValue();
    }

    /** The state machine: draft → pending → processing → done (or failed), driven by the clock. */
    String state(SimRequest r) {
        if (r.processedAt == null) {
            return "draft";
        }
        Duration since = Duration.between(r.processedAt, Instant.now());
        if (since.compareTo(config.pendingTime) < 0) {
            return "pending";
        }
        if (since.compareTo(config.pendingTime.plus(config.processingTime(r.id))) < 0 || !r.finished) {
            return "processing";
        }
        return r.failing || r.error != null ? "failed" : "done";
    }

    private Map<String, Object> describe(SimRequest r) throws IOException {
        String st = state(r);
        String base = "http://" + config.bindHost + ":" + (config.publicHttpPort > 0 ? config.publicHttpPort : httpPort()) + FILES + r.id
                + "/" + r.key + "/";
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", r.id);
        m.put("key", r.key);
        m.put("email", r.email);
        m.put("target", r.target);
        m.put("aim", r.aim);
        m.put("filename", r.filename);
        m.put("timezone", r.timezone);
        m.put("state", st);
        m.put("issue_stage", switch (st) { case "draft" -> "new"; case "done" -> "done"; case "failed" -> "cancelled"; default -> "in_progress"; });
        m.put("issue", 648000 + r.id);
        m.put("status_url", base + "status");
        m.put("notes_url", base + "upgraded/notes");
        m.put("original_sql_url", base + "original/sql");
        m.put("original_dump_url", base + "original/archive");
        // a failed upgrade has no upgraded database to offer
        m.put("upgraded_sql_url", st.equals("failed") ? null : base + "upgraded/sql");
        m.put("upgraded_dump_url", st.equals("failed") ? null : base + "upgraded/archive");
        m.put("modules_url", base + "modules/archive");
        m.put("filesize", Files.isRegularFile(r.uploadFile()) ? humanSize(Files.size(r.uploadFile())) : "0.00 Kb");
        m.put("database_uuid", r.finished ? "sim-" + r.id : null);
        m.put("created_at", TIMESTAMP.format(r.createdAt));
        Duration upgrade = config.pendingTime.plus(config.processingTime);
        m.put("estimated_time", r.processedAt == null ? null : clock(upgrade));
        m.put("processed_at", r.processedAt == null ? null : TIMESTAMP.format(r.processedAt));
        // counts while the upgrade runs, then stays at its length
        Instant until = st.equals("done") || st.equals("failed") ? min(Instant.now(), r.processedAt.plus(upgrade)) : Instant.now();
        m.put("elapsed", r.processedAt == null ? "00:00" : clock(Duration.between(r.processedAt, until)));
        m.put("filestore", false);
        m.put("customer_message", st.equals("failed") ? config.failureMessage : null);
        m.put("database_version", r.processedAt == null ? null : "16.0");
        m.put("postgresql", config.postgresql);
        m.put("compressions", List.of("pgdmp_custom", "sql"));
        return m;
    }

    private void files(HttpExchange ex, String rest) throws IOException {
        drain(ex);
        String[] parts = rest.split("/");
        SimRequest r = null;
        if (parts.length >= 3) {
            try {
                r = requests.get(Long.parseLong(parts[0]));
            } catch (NumberFormatException e) {
                // not found below
            }
        }
        if (r == null || !r.key.equals(java.net.URLDecoder.decode(parts[1], StandardCharsets.UTF_8))) {
            sendHtml(ex, 404, "<html><body><h1>404 Not Found</h1></body></html>");
            return;
        }
        String what = String.join("/", java.util.Arrays.copyOfRange(parts, 2, parts.length));
        String st = state(r);
        switch (what) {
            case "status" -> sendHtml(ex, 200, "<html><head><title>Upgrade request " + r.id + "</title></head><body><h1>Request "
                    + r.id + "</h1><p>State: " + st + "</p></body></html>");
            case "upgraded/notes" -> {
                if (!st.equals("done")) {
                    sendHtml(ex, 404, "<html><body><h1>404 Not Found</h1></body></html>");
                } else {
                    sendHtml(ex, 200, SimulatorConfig.report(r.id, r.target));
                }
            }
            case "upgraded/archive" -> {
                if (!answerInjected(ex, "download")) {
                    pauseAt("download");
                    sendFile(ex, st.equals("done") ? r.upgradedFile() : null, "application/zip", "download-half");
                }
            }
            case "modules/archive" -> sendModules(ex);
            case "original/archive", "original/sql", "upgraded/sql" ->
                    sendFile(ex, Files.isRegularFile(r.uploadFile()) ? r.uploadFile() : null, "application/octet-stream", null);
            default -> sendHtml(ex, 404, "<html><body><h1>404 Not Found</h1></body></html>");
        }
    }

    /** The request's custom modules: none were uploaded here, so an empty zip. */
    private static void sendModules(HttpExchange ex) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        new ZipOutputStream(out).close();
        byte[] zip = out.toByteArray();
        ex.getResponseHeaders().set("Content-Type", "application/zip");
        ex.sendResponseHeaders(200, zip.length);
        ex.getResponseBody().write(zip);
    }

    /** Streams a file, honouring a single {@code Range: bytes=a-b} (or {@code a-}) request. */
    private void sendFile(HttpExchange ex, Path file, String type, String halfwayPoint) throws IOException {
        if (file == null || !Files.isRegularFile(file)) {
            sendHtml(ex, 404, "<html><body><h1>404 Not Found</h1></body></html>");
            return;
        }
        long size = Files.size(file);
        long from = 0;
        long to = size - 1;
        String range = ex.getRequestHeaders().getFirst("Range");
        boolean partial = false;
        if (range != null && range.startsWith("bytes=") && !range.contains(",")) {
            String[] se = range.substring(6).split("-", -1);
            try {
                if (!se[0].isEmpty()) {
                    from = Long.parseLong(se[0].trim());
                    if (!se[1].isEmpty()) {
                        to = Math.min(to, Long.parseLong(se[1].trim()));
                    }
                } else if (!se[1].isEmpty()) {
                    from = Math.max(0, size - Long.parseLong(se[1].trim()));
                }
                partial = true;
            } catch (NumberFormatException e) {
                partial = false;
            }
            if (partial && from >= size) {
                ex.getResponseHeaders().set("Content-Range", "bytes */" + size);
                ex.sendResponseHeaders(416, -1);
                return;
            }
        }
        long length = to - from + 1;
        ex.getResponseHeaders().set("Content-Type", type);
        ex.getResponseHeaders().set("Accept-Ranges", "bytes");
        if (partial) {
            ex.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + to + "/" + size);
        }
        boolean archive = halfwayPoint != null;
        boolean truncate = archive && !partial && truncateDownloads.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
        // held before its end, a download is sent chunked: the client has every byte but waits for the last chunk
        boolean holdAtEnd = archive && holds.holding("download-end");
        if (truncate) {
            length = length / 2;
        }
        ex.sendResponseHeaders(partial ? 206 : 200, truncate || holdAtEnd ? 0 : length == 0 ? -1 : length);
        if (ex.getRequestMethod().equalsIgnoreCase("HEAD") || length == 0) {
            return;
        }
        if (archive) {
            transfersMax.accumulateAndGet(transfersNow.incrementAndGet(), Math::max);
        }
        try (InputStream in = Files.newInputStream(file); OutputStream out = ex.getResponseBody()) {
            in.skipNBytes(from);
            byte[] buf = new byte[1 << 16];
            long left = length;
            boolean halfway = false;
            while (left > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    break;
                }
                out.write(buf, 0, n);
                left -= n;
                if (halfwayPoint != null) {
                    long served = length - left;
                    archiveBytesServed.addAndGet(n);
                    long limit = breakDownloadAfter.get();
                    if (limit >= 0 && served >= limit && breakDownloadAfter.compareAndSet(limit, -1)) {
                        out.flush();
                        throw new IOException("simulated connection loss after " + served + " bytes of the archive");
                    }
                }
                if (!halfway && halfwayPoint != null && left <= length / 2) {
                    halfway = true;
                    out.flush();
                    pauseAt(halfwayPoint);
                }
            }
            if (holdAtEnd) {
                out.flush();
                pauseAt("download-end");
            }
        } finally {
            if (archive) {
                transfersNow.decrementAndGet();
            }
        }
    }

    private static long contentLength(HttpExchange ex) {
        String v = ex.getRequestHeaders().getFirst("Content-Length");
        try {
            return v == null ? -1 : Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static void sendHtml(HttpExchange ex, int status, String html) throws IOException {
        byte[] out = html.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
        ex.sendResponseHeaders(status, out.length);
        ex.getResponseBody().write(out);
    }

    private static void drain(HttpExchange ex) throws IOException {
        drainStream(ex.getRequestBody());
    }

    private static void drainStream(InputStream in) throws IOException {
        in.transferTo(OutputStream.nullOutputStream());
    }

    static Map<String, Object> answer(List<Map<String, Object>> failures, Map<String, Object> request) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("failures", failures);
        if (request != null) {
            m.put("request", request);
        }
        return m;
    }

    /** A failure as the documentation shows them: reason, message, and one more key whose value is a string. */
    private static Map<String, Object> failure(String reason, String message, String extraKey, String extraValue) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("reason", reason);
        f.put("message", message);
        f.put(extraKey, extraValue);
        return f;
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    /** A duration as the platform shows one, two fields ({@code "00:00"}): minutes and seconds, as upgrades here take seconds. */
    private static String clock(Duration d) {
        long seconds = Math.max(0, d.toSeconds());
        return String.format(Locale.ROOT, "%02d:%02d", seconds / 60, seconds % 60);
    }

    private static Instant min(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }

    static String humanSize(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.2f Gb", bytes / (double) (1L << 30));
        }
        if (bytes >= 1L << 20) {
            return String.format(Locale.ROOT, "%.2f Mb", bytes / (double) (1L << 20));
        }
        return String.format(Locale.ROOT, "%.2f Kb", bytes / 1024.0);
    }
}

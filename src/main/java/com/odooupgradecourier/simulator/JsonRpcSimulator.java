package com.odooupgradecourier.simulator;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import org.apache.sshd.common.config.keys.AuthorizedKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.KeyStore;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A stand-in for Odoo's Upgrade platform as its current client speaks to it ({@code docs}: current-api.md): JSON-RPC
 * 2.0 over HTTP(S) at {@code /upgrade/request/<endpoint>}, and data moved with rsync over SSH ({@link RsyncSshServer})
 * as user {@code odoo} into the request's {@code /data} folder, with the request's own key, between
 * {@code transfer/start} and {@code transfer/stop}.
 *
 * <p>A request is {@code new} until {@code process}, then {@code pending}, {@code progress} (its log grows) and
 * {@code done} (or {@code failed} with a {@code reason} for a failing contract), on the same clock as the v1 simulator.
 * Done, its {@code /data} holds the upgraded dump ({@code dump_name}), {@code filestore/}, {@code upgrade-report.html}
 * and {@code upgrade.log}. Where the client's view says nothing, it is strict: unknown tokens, calls out of order and
 * malformed parameters are refused with a JSON-RPC error.
 */
public final class JsonRpcSimulator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(JsonRpcSimulator.class);
    static final String BASE = "/upgrade/request/";
    private static final String STORE_PASSWORD = "simulator";
    private static final Pattern ENV_VAR = Pattern.compile("^\\w+=.*", Pattern.DOTALL);
    static final List<String> DUMP_EXTENSIONS = List.of(".sql.gz", ".sql", ".dump", ".zip");

    private final SimulatorConfig config;
    private final ObjectMapper json = new ObjectMapper();
    private final SecureRandom random = new SecureRandom();
    private final AtomicLong nextId = new AtomicLong(21034);
    private final Map<String, Rpc> byToken = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    private final Holds holds = new Holds();
    private final Map<String, java.util.Deque<String[]>> injected = new ConcurrentHashMap<>();
    private final ExecutorService workers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "simulator-upgrade");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean wrongHostKey;
    private volatile int unavailableEvery;
    private final AtomicInteger allCalls = new AtomicInteger();
    private HttpServer http;
    private HttpsServer https;
    private RsyncSshServer ssh;

    public JsonRpcSimulator(SimulatorConfig config) {
        this.config = config;
    }

    /** One request as the platform holds it. */
    static final class Rpc {
        long id;
        String token;
        String contract;
        String target;
        String aim;
        List<String> envVars = List.of();
        String sshKey;
        boolean failing;
        String createdAt;
        String processedAt;
        boolean finished;
        /** upload or download while a transfer is open, else null. */
        String transfer;
        String dumpName;
        transient Path dir;
        transient PublicKey key;

        Path data() {
            return dir.resolve("data");
        }
    }

    public JsonRpcSimulator start() throws IOException {
        Files.createDirectories(config.storageDir);
        load();
        ssh = new RsyncSshServer(this, config);
        ssh.start();
        http = HttpServer.create(new InetSocketAddress(config.bindHost, config.httpPort), 64);
        serve(http);
        if (config.httpsPort >= 0) {
            https = HttpsServer.create(new InetSocketAddress(config.bindHost, config.httpsPort), 64);
            https.setHttpsConfigurator(new HttpsConfigurator(tls()));
            serve(https);
        }
        LOG.info("Upgrade platform simulator (JSON-RPC) listening on {}{} and ssh://odoo@{}:{} (rsync)", apiUrl(),
                https == null ? "" : " and http://" + config.bindHost + ":" + http.getAddress().getPort(), config.bindHost, ssh.port());
        return this;
    }

    private void serve(HttpServer server) {
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "simulator-rpc");
            t.setDaemon(true);
            return t;
        }));
        server.start();
    }

    @Override
    public void close() {
        releaseAll();
        if (http != null) {
            http.stop(0);
        }
        if (https != null) {
            https.stop(0);
        }
        if (ssh != null) {
            ssh.stop();
        }
        workers.shutdownNow();
    }

    /** The base URL clients start from: the https one when there is one. */
    public String apiUrl() {
        return https != null ? "https://" + config.bindHost + ":" + https.getAddress().getPort()
                : "http://" + config.bindHost + ":" + http.getAddress().getPort();
    }

    /** What {@code assigned_host_uri} names: a bare host on https's own port (443), else host:port. */
    String hostUri() {
        if (https != null) {
            int port = https.getAddress().getPort();
            return port == 443 ? config.bindHost : config.bindHost + ":" + port;
        }
        return config.bindHost + ":" + http.getAddress().getPort();
    }

    /** A trust store holding the simulator's https certificate (for javax.net.ssl.trustStore), password "simulator". */
    public Path trustStore() {
        return config.storageDir.resolve("https-trust.p12");
    }

    public RsyncSshServer sshServer() {
        return ssh;
    }

    public int sshPort() {
        return ssh.port();
    }

    /** How many calls an endpoint got, e.g. {@code create}, {@code transfer/start}. */
    public int calls(String endpoint) {
        AtomicInteger n = calls.get(endpoint);
        return n == null ? 0 : n.get();
    }

    public int requestCount() {
        return byToken.size();
    }

    /** The environment variables the {@code n}th request (0: the first) was created with. */
    public List<String> envVars(int n) {
        return byToken.values().stream().sorted(java.util.Comparator.comparingLong(r -> r.id)).skip(n).findFirst()
                .map(r -> r.envVars).orElseThrow();
    }

    public List<String> tokens() {
        return List.copyOf(byToken.keySet());
    }

    /** Fault injection: the next {@code times} calls of {@code endpoint} get this answer instead. */
    public void inject(String endpoint, int times, int status, String contentType, String body) {
        java.util.Deque<String[]> q = injected.computeIfAbsent(endpoint, e -> new java.util.concurrent.ConcurrentLinkedDeque<>());
        for (int i = 0; i < times; i++) {
            q.add(new String[]{String.valueOf(status), contentType, body});
        }
    }

    /**
     * Fault injection: every {@code n}th call (of any endpoint; 0: none) is answered HTTP 503 with an HTML page, as one bad
     * backend of {@code n} behind a round-robin balancer would.
     */
    public void unavailableEvery(int n) {
        unavailableEvery = n;
    }

    /** Fault injection: {@code transfer/start} names a host key that is not the SSH server's. */
    public void wrongHostKey(boolean on) {
        wrongHostKey = on;
    }

    public void holdAt(String point) {
        holds.holdAt(point);
    }

    public int heldAt(String point) {
        return holds.heldAt(point);
    }

    public void release(String point) {
        holds.release(point);
    }

    public void releaseAll() {
        holds.releaseAll();
    }

    void pauseAt(String point) {
        holds.pauseAt(point);
    }

    /** The request whose transfer is open and whose key this is (the SSH server's authentication). */
    Rpc openTransferFor(PublicKey key) {
        return byToken.values().stream()
                .filter(r -> r.transfer != null && r.key != null && org.apache.sshd.common.config.keys.KeyUtils.compareKeys(r.key, key))
                .findFirst().orElse(null);
    }

    // ---------------------------------------------------------------- HTTP

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            if (!path.startsWith(BASE)) {
                send(ex, 404, "text/html", "<html><body><h1>404 Not Found</h1></body></html>");
                return;
            }
            String endpoint = path.substring(BASE.length());
            calls.computeIfAbsent(endpoint, e -> new AtomicInteger()).incrementAndGet();
            int every = unavailableEvery;
            if (config.unavailableRate > 0 && ThreadLocalRandom.current().nextDouble() < config.unavailableRate
                    || every > 0 && allCalls.incrementAndGet() % every == 0) {
                ex.getRequestBody().readAllBytes();
                send(ex, 503, "text/html", "<html><body><h1>503 Service Unavailable</h1></body></html>");
                return;
            }
            java.util.Deque<String[]> q = injected.get(endpoint);
            String[] inj = q == null ? null : q.poll();
            if (inj != null) {
                ex.getRequestBody().readAllBytes();
                send(ex, Integer.parseInt(inj[0]), inj[1], inj[2]);
                return;
            }
            if (endpoint.equals("logs")) {
                logs(ex);
                return;
            }
            Map<String, Object> params;
            try {
                if (!"POST".equals(ex.getRequestMethod())
                        || !String.valueOf(ex.getRequestHeaders().getFirst("Content-Type")).toLowerCase(Locale.ROOT).startsWith("application/json")) {
                    throw new RpcError("Bad Request: a JSON-RPC call is a POST of application/json");
                }
                Map<String, Object> call = json.readValue(HttpForms.readLimited(ex.getRequestBody()), new TypeReference<>() { });
                if (!"2.0".equals(call.get("jsonrpc")) || !(call.get("params") instanceof Map)) {
                    throw new RpcError("Invalid JSON-RPC request: jsonrpc must be \"2.0\" and params an object");
                }
                @SuppressWarnings("unchecked")
                Map<String, Object> p = (Map<String, Object>) call.get("params");
                params = p;
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                reply(ex, Map.of("error", error("Invalid JSON-RPC request: the body is not JSON")));
                return;
            } catch (RpcError e) {
                reply(ex, Map.of("error", error(e.getMessage())));
                return;
            }
            try {
                Map<String, Object> result = switch (endpoint) {
                    case "create" -> create(params);
                    case "transfer/start" -> transferStart(request(params), params.get("transfer_type"));
                    case "transfer/stop" -> transferStop(request(params));
                    case "process" -> process(request(params));
                    case "status" -> {
                        Rpc r = request(params);
                        pauseAt("status");
                        pauseAt(r.processedAt == null ? "status-new" : "status-processing");
                        yield status(r);
                    }
                    default -> null;
                };
                if (result == null) {
                    send(ex, 404, "text/html", "<html><body><h1>404 Not Found</h1></body></html>");
                    return;
                }
                reply(ex, Map.of("result", result));
            } catch (RpcError e) {
                reply(ex, Map.of("error", error(e.getMessage())));
            }
        } catch (RuntimeException e) {
            LOG.warn("simulator: {} {} failed: {}", ex.getRequestMethod(), ex.getRequestURI().getPath(), e.toString());
            send(ex, 500, "text/html", "<html><body><h1>500 Internal Server Error</h1></body></html>");
        }
    }

    /** An exception raised on the server, as Odoo answers it: message in {@code error.data.message}. */
    private static Map<String, Object> error(String message) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("name", "odoo.exceptions.UserError");
        data.put("message", message);
        data.put("arguments", List.of(message));
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("code", 200);
        e.put("message", "Odoo Server Error");
        e.put("data", data);
        return e;
    }

    private static final class RpcError extends Exception {
        RpcError(String message) {
            super(message);
        }
    }

    private void reply(HttpExchange ex, Map<String, Object> payload) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("jsonrpc", "2.0");
        body.put("id", null);
        body.putAll(payload);
        send(ex, 200, "application/json", json.writeValueAsString(body));
    }

    private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] out = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, out.length == 0 ? -1 : out.length);
        if (out.length > 0) {
            ex.getResponseBody().write(out);
        }
    }

    private Rpc request(Map<String, Object> params) throws RpcError {
        Object token = params.get("token");
        Rpc r = token instanceof String t ? byToken.get(t) : null;
        if (r == null) {
            throw new RpcError("No upgrade request matches this token");
        }
        return r;
    }

    // ---------------------------------------------------------------- endpoints

    private Map<String, Object> create(Map<String, Object> p) throws RpcError, IOException {
        for (String name : List.of("contract", "target", "aim", "actuator", "ssh_key", "api_version")) {
            if (!(p.get(name) instanceof String s) || s.isBlank()) {
                throw new RpcError("Missing required parameter '" + name + "'");
            }
        }
        if (!"0.2".equals(p.get("api_version"))) {
            throw new RpcError("Unsupported api_version '" + p.get("api_version") + "': this server speaks 0.2");
        }
        String contract = ((String) p.get("contract")).trim();
        String target = (String) p.get("target");
        String aim = (String) p.get("aim");
        if (!List.of("test", "production").contains(aim)) {
            throw new RpcError("Invalid aim '" + aim + "': test or production");
        }
        if (!config.targets.contains(target)) {
            return Map.of("error", "Invalid target version '" + target + "'. Expected one of: " + String.join(", ", config.targets));
        }
        if (!config.contracts.contains(contract)) {
            return Map.of("error", "Unknown subscription code '" + contract + "'. Your database must be registered to be eligible for an upgrade.");
        }
        List<String> env = new ArrayList<>();
        if (p.get("env_vars") != null) {
            if (!(p.get("env_vars") instanceof List<?> l)) {
                throw new RpcError("env_vars must be a list of VAR=VAL");
            }
            for (Object o : l) {
                if (!(o instanceof String s) || !ENV_VAR.matcher(s).matches()) {
                    throw new RpcError("The following environment variable is badly formatted: " + o);
                }
                env.add(s);
            }
        }
        PublicKey key = publicKey((String) p.get("ssh_key"));
        Rpc r = new Rpc();
        r.id = nextId.getAndIncrement();
        byte[] t = new byte[24];
        random.nextBytes(t);
        r.token = HexFormat.of().formatHex(t);
        r.contract = contract;
        r.target = target;
        r.aim = aim;
        r.envVars = env;
        r.sshKey = ((String) p.get("ssh_key")).trim();
        r.key = key;
        r.failing = config.failingContracts.contains(contract);
        r.createdAt = Instant.now().toString();
        r.dir = config.storageDir.resolve("rpc-" + r.id);
        Files.createDirectories(r.data());
        save(r);
        byToken.put(r.token, r);
        LOG.info("simulator: request {} created (target {}, aim {})", r.id, target, aim);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("request_id", r.id);
        out.put("token", r.token);
        out.put("assigned_host_uri", hostUri());
        return out;
    }

    private static PublicKey publicKey(String text) throws RpcError {
        try {
            List<AuthorizedKeyEntry> entries = AuthorizedKeyEntry.readAuthorizedKeys(new StringReader(text), true);
            if (entries.size() != 1) {
                throw new RpcError("ssh_key must be one public key");
            }
            return entries.get(0).resolvePublicKey(null, PublicKeyEntryResolver.FAILING);
        } catch (IOException | java.security.GeneralSecurityException | RuntimeException e) {
            throw new RpcError("ssh_key is not a public key in OpenSSH format");
        }
    }

    private Map<String, Object> transferStart(Rpc r, Object type) throws RpcError, IOException {
        String state = state(r);
        if ("upload".equals(type)) {
            if (!state.equals("new")) {
                throw new RpcError("The request is " + state + ": its dump can no longer be uploaded");
            }
        } else if ("download".equals(type)) {
            if (!state.equals("done")) {
                throw new RpcError("The request is " + state + ": there is nothing to download yet");
            }
        } else {
            throw new RpcError("transfer_type must be upload or download");
        }
        r.transfer = (String) type;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ssh_port", ssh.port());
        out.put("known_hosts", ssh.knownHosts(wrongHostKey));
        if ("download".equals(type)) {
            out.put("dump_name", r.dumpName);
        }
        return out;
    }

    private Map<String, Object> transferStop(Rpc r) {
        r.transfer = null;
        return Map.of();
    }

    private Map<String, Object> process(Rpc r) throws RpcError, IOException {
        pauseAt("process");
        if (r.processedAt != null) {
            throw new RpcError("The request is already " + state(r));
        }
        if (origin(r) == null) {
            throw new RpcError("No database dump was uploaded: expected /data/origin with one of " + DUMP_EXTENSIONS);
        }
        r.transfer = null;
        r.processedAt = Instant.now().toString();
        save(r);
        workers.submit(() -> upgrade(r));
        return Map.of("is_pg_version_compatible", !r.envVars.contains("SIMULATOR_PG_INCOMPATIBLE=1"));
    }

    private Map<String, Object> status(Rpc r) {
        Map<String, Object> out = new LinkedHashMap<>();
        String state = state(r);
        out.put("status", state);
        out.put("host_uri", hostUri());
        if (state.equals("failed")) {
            out.put("reason", config.failureMessage);
        }
        out.put("archived", false);
        return out;
    }

    /** new (not processed), pending, progress, then done or failed once the upgrade has finished. */
    String state(Rpc r) {
        if (r.processedAt == null) {
            return "new";
        }
        long since = java.time.Duration.between(Instant.parse(r.processedAt), Instant.now()).toMillis();
        if (since < config.pendingTime.toMillis()) {
            return "pending";
        }
        if (!r.finished) {
            return "progress";
        }
        return r.failing ? "failed" : "done";
    }

    /** GET ?token=…, {@code Range: bytes=N-}: the upgrade log from byte N (empty when there is nothing beyond it). */
    private void logs(HttpExchange ex) throws IOException {
        Map<String, String> q = HttpForms.query(ex.getRequestURI().getRawQuery());
        Rpc r = q.get("token") == null ? null : byToken.get(q.get("token"));
        if (r == null || !"GET".equals(ex.getRequestMethod())) {
            send(ex, 404, "text/html", "<html><body><h1>404 Not Found</h1></body></html>");
            return;
        }
        Path log = r.data().resolve("upgrade.log");
        long size = Files.exists(log) ? Files.size(log) : 0;
        long from = 0;
        String range = ex.getRequestHeaders().getFirst("Range");
        if (range != null) {
            java.util.regex.Matcher m = Pattern.compile("bytes=(\\d+)-").matcher(range.trim());
            if (m.matches()) {
                from = Long.parseLong(m.group(1));
            }
        }
        ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        if (from >= size) {
            ex.sendResponseHeaders(200, -1);
            return;
        }
        if (from > 0) {
            ex.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + (size - 1) + "/" + size);
        }
        ex.sendResponseHeaders(from > 0 ? 206 : 200, size - from);
        try (InputStream in = Files.newInputStream(log)) {
            in.skipNBytes(from);
            OutputStream out = ex.getResponseBody();
            byte[] buf = new byte[8192];
            long left = size - from;
            while (left > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    break;
                }
                out.write(buf, 0, n);
                left -= n;
            }
        }
    }

    // ---------------------------------------------------------------- the upgrade

    /** The uploaded dump: {@code /data/origin<ext>}, a file (or a pg_dump directory as origin.dump). */
    static Path origin(Rpc r) {
        for (String ext : DUMP_EXTENSIONS) {
            Path p = r.data().resolve("origin" + ext);
            if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                    || ext.equals(".dump") && Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                return p;
            }
        }
        return null;
    }

    private void upgrade(Rpc r) {
        try {
            Path log = r.data().resolve("upgrade.log");
            long pendingLeft = config.pendingTime.toMillis()
                    - java.time.Duration.between(Instant.parse(r.processedAt), Instant.now()).toMillis();
            if (pendingLeft > 0) {
                Thread.sleep(pendingLeft);
            }
            long step = Math.max(1, config.processingTime(r.id).toMillis() / 3);
            log(log, "Upgrade of request " + r.id + " to " + r.target + " started");
            Thread.sleep(step);
            log(log, "Loading the origin database");
            Thread.sleep(step);
            log(log, "Migrating modules to " + r.target);
            Thread.sleep(step);
            if (r.failing) {
                log(log, "ERROR: " + config.failureMessage);
            } else {
                writeUpgraded(r);
                log(log, "Upgrade of request " + r.id + " finished");
            }
            Files.writeString(r.data().resolve("upgrade-report.html"), SimulatorConfig.report(r.id, r.target) + "\n");
            LOG.info("simulator: request {} has its upgraded archive", r.id);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (Exception e) {
            LOG.warn("simulator: request {} could not be upgraded: {}", r.id, e.toString());
        }
        r.finished = true;
        try {
            save(r);
        } catch (IOException e) {
            LOG.warn("simulator: request {} could not be kept: {}", r.id, e.toString());
        }
    }

    private static void log(Path log, String line) throws IOException {
        Files.writeString(log, Instant.now() + " INFO " + line + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /**
     * The upgraded dump, as far as a simulator goes: an Odoo zip's {@code dump.sql} and {@code filestore/} unpacked
     * (dump_name {@code dump.sql}); any other dump copied as {@code upgraded<ext>}, with an empty filestore.
     */
    private void writeUpgraded(Rpc r) throws IOException {
        Path origin = origin(r);
        Path filestore = r.data().resolve("filestore");
        Files.createDirectories(filestore);
        String name = origin.getFileName().toString();
        if (name.endsWith(".zip") && Files.isRegularFile(origin)) {
            try (ZipFile zip = new ZipFile(origin.toFile())) {
                if (zip.getEntry("dump.sql") != null) {
                    for (var en = zip.entries(); en.hasMoreElements(); ) {
                        ZipEntry e = en.nextElement();
                        Path to = r.data().resolve(e.getName()).normalize();
                        boolean ok = e.getName().equals("dump.sql") || e.getName().startsWith("filestore/");
                        if (!ok || !to.startsWith(r.data()) || e.isDirectory()) {
                            continue;
                        }
                        Files.createDirectories(to.getParent());
                        try (InputStream in = zip.getInputStream(e)) {
                            Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
                        }
                    }
                    r.dumpName = "dump.sql";
                    return;
                }
            }
        }
        String ext = name.substring("origin".length());
        Path to = r.data().resolve("upgraded" + ext);
        if (Files.isDirectory(origin)) {
            Files.createDirectories(to);
            try (var files = Files.list(origin)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } else {
            Files.copy(origin, to, StandardCopyOption.REPLACE_EXISTING);
        }
        r.dumpName = to.getFileName().toString();
    }

    // ---------------------------------------------------------------- keeping requests across restarts

    private void save(Rpc r) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", r.id);
        m.put("token", r.token);
        m.put("contract", r.contract);
        m.put("target", r.target);
        m.put("aim", r.aim);
        m.put("env_vars", r.envVars);
        m.put("ssh_key", r.sshKey);
        m.put("failing", r.failing);
        m.put("created_at", r.createdAt);
        m.put("processed_at", r.processedAt);
        m.put("finished", r.finished);
        m.put("dump_name", r.dumpName);
        Path tmp = r.dir.resolve("request.json.tmp");
        Files.write(tmp, json.writeValueAsBytes(m));
        Files.move(tmp, r.dir.resolve("request.json"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    @SuppressWarnings("unchecked")
    private void load() throws IOException {
        try (var dirs = Files.list(config.storageDir)) {
            for (Path dir : dirs.filter(d -> Files.isRegularFile(d.resolve("request.json"))
                    && d.getFileName().toString().startsWith("rpc-")).toList()) {
                try {
                    Map<String, Object> m = json.readValue(dir.resolve("request.json").toFile(), new TypeReference<>() { });
                    Rpc r = new Rpc();
                    r.id = ((Number) m.get("id")).longValue();
                    r.token = (String) m.get("token");
                    r.contract = (String) m.get("contract");
                    r.target = (String) m.get("target");
                    r.aim = (String) m.get("aim");
                    r.envVars = (List<String>) m.get("env_vars");
                    r.sshKey = (String) m.get("ssh_key");
                    r.key = publicKey(r.sshKey);
                    r.failing = Boolean.TRUE.equals(m.get("failing"));
                    r.createdAt = (String) m.get("created_at");
                    r.processedAt = (String) m.get("processed_at");
                    r.finished = Boolean.TRUE.equals(m.get("finished"));
                    r.dumpName = (String) m.get("dump_name");
                    r.dir = dir;
                    byToken.put(r.token, r);
                    nextId.accumulateAndGet(r.id + 1, Math::max);
                    if (r.processedAt != null && !r.finished) {
                        workers.submit(() -> upgrade(r));
                    }
                } catch (Exception e) {
                    LOG.warn("simulator: the request kept in {} cannot be read: {}", dir, e.toString());
                }
            }
        }
    }

    // ---------------------------------------------------------------- https

    /** A self-signed certificate for 127.0.0.1 and localhost, made once with the JDK's keytool. */
    private SSLContext tls() throws IOException {
        Path keys = config.storageDir.resolve("https.p12");
        Path cert = config.storageDir.resolve("https.crt");
        Path trust = trustStore();
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        if (!Files.exists(keys) || !Files.exists(trust)) {
            Files.deleteIfExists(keys);
            Files.deleteIfExists(trust);
            run(keytool, "-genkeypair", "-alias", "simulator", "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
                    "CN=localhost", "-ext", "san=ip:127.0.0.1,dns:localhost", "-validity", "3650", "-storetype", "PKCS12",
                    "-keystore", keys.toString(), "-storepass", STORE_PASSWORD);
            run(keytool, "-exportcert", "-rfc", "-alias", "simulator", "-keystore", keys.toString(), "-storepass", STORE_PASSWORD,
                    "-file", cert.toString());
            run(keytool, "-importcert", "-noprompt", "-alias", "simulator", "-file", cert.toString(), "-storetype", "PKCS12",
                    "-keystore", trust.toString(), "-storepass", STORE_PASSWORD);
        }
        try (InputStream in = Files.newInputStream(keys)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, STORE_PASSWORD.toCharArray());
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, STORE_PASSWORD.toCharArray());
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            return ctx;
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("the simulator's https key cannot be used: " + e.getMessage(), e);
        }
    }

    private static void run(String... command) throws IOException {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IOException(command[0] + " failed: " + out.trim());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}

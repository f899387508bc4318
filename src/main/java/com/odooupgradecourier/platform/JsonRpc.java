package com.odooupgradecourier.platform;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.odooupgradecourier.support.Secrets;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What the routes cannot say about Odoo's current upgrade protocol (JSON-RPC 2.0 over HTTPS, {@code upgrade.api =
 * jsonrpc}): the parameters of each call, one call ({@code POST <host>/upgrade/request/<endpoint>}), reading its answer,
 * and the upgrade log read from where it was left.
 *
 * <p>HTTPS is the JVM's own: the default trust settings ({@code javax.net.ssl.trustStore}, e.g. through
 * {@code JAVA_TOOL_OPTIONS}) decide which certificates are trusted; certificate and host name are always verified.
 * After {@code create} every call goes to the request's {@code assigned_host_uri} (a host, or host:port), with the
 * scheme of {@code upgrade.api-url}.
 */
public class JsonRpc {
    private static final Pattern HOST = Pattern.compile("^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\\[[0-9A-Fa-f:.]+\\])(?::\\d{1,5})?$");
    private static final Pattern ENV_VAR = Pattern.compile("^\\w+=.*");
    private final ObjectMapper json = new ObjectMapper();
    private final String apiUrl;
    private final String scheme;
    private final Path logsDir;

    /**
     * @param apiUrl  {@code upgrade.api-url}, e.g. {@code https://upgrade.odoo.com}
     * @param logsDir where each dump's upgrade log is kept ({@code <dump id>.log})
     */
    public JsonRpc(String apiUrl, Path logsDir) {
        this.apiUrl = apiUrl.replaceAll("/+$", "");
        URI uri = URI.create(this.apiUrl);
        this.scheme = uri.getScheme();
        this.logsDir = logsDir;
        if (!"https".equals(scheme) && !("http".equals(scheme) && loopback(uri.getHost()))) {
            throw new IllegalArgumentException("upgrade.api-url must be an https URL (the token would travel in clear): "
                    + Secrets.maskUri(this.apiUrl) + " (plain http only to a loopback address, e.g. the simulator)");
        }
    }

    /** A loopback address as written (never a name that merely begins like one: 127.attacker.example is a name), or localhost. */
    private static boolean loopback(String host) {
        return com.odooupgradecourier.support.Hosts.isLoopback(host);
    }

    /** The parameters of {@code create}: the dump's settings, its environment variables, the request's own public key. */
    public Map<String, Object> createParams(@ExchangeProperty("contract") String contract, @ExchangeProperty("target") String target,
                                            @ExchangeProperty("aim") String aim, @ExchangeProperty("envVars") String envVars,
                                            @ExchangeProperty("sshPublicKey") String publicKey) {
        List<String> env = new ArrayList<>();
        if (envVars != null) {
            for (String line : envVars.split("\n")) {
                if (ENV_VAR.matcher(line).matches()) {
                    env.add(line);
                }
            }
        }
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("contract", contract);
        p.put("target", target);
        p.put("aim", aim);
        p.put("actuator", "cli");
        p.put("env_vars", env);
        p.put("ssh_key", publicKey);
        p.put("api_version", "0.2");
        return p;
    }

    /** The parameters of {@code transfer/start}: {@code transfer_type} upload or download (the token is added by the call). */
    public Map<String, Object> transferParams(@ExchangeProperty("transferType") String type) {
        return Map.of("transfer_type", type);
    }

    /** No parameters but the token, which the call adds. */
    public Map<String, Object> noParams() {
        return Map.of();
    }

    /** The base URL of the request's host: {@code <scheme>://<assigned_host_uri>}. */
    String hostUrl(String hostUri) throws UnexpectedAnswerException {
        if (hostUri == null || !HOST.matcher(hostUri).matches()) {
            throw new UnexpectedAnswerException("the platform named a host that is not a host name (with an optional port): "
                    + Platform.excerpt(String.valueOf(hostUri), null));
        }
        if (scheme.equals("http") && !loopback(URI.create("http://" + hostUri).getHost())) {
            throw new UnexpectedAnswerException("the platform (reached over plain http) named a host that is not on this machine: "
                    + hostUri + "; the token is sent to it over https only");
        }
        return scheme + "://" + hostUri;
    }

    /**
     * One call, made by the route with camel-http (the HTTP stack of both protocols, with its settings): the body becomes
     * {@code POST <url>/upgrade/request/<rpcEndpoint>} with the body's parameters (and the request's {@code token}, after
     * create), to {@code upgrade.api-url} for create and to the request's host after it. Every header but Camel's
     * redelivery count is dropped first: nothing of an earlier answer goes along.
     */
    public void request(Exchange exchange) throws Exception {
        String endpoint = exchange.getProperty("rpcEndpoint", String.class);
        boolean create = endpoint.equals("create");
        @SuppressWarnings("unchecked")
        Map<String, Object> body = exchange.getMessage().getBody(Map.class);
        Map<String, Object> params = new LinkedHashMap<>(body == null ? Map.of() : body);
        if (!create) {
            params.put("token", exchange.getProperty("requestKey", String.class));
        }
        String base = create ? apiUrl : hostUrl(exchange.getProperty("hostUri", String.class));
        Map<String, Object> call = new LinkedHashMap<>();
        call.put("jsonrpc", "2.0");
        call.put("method", "call");
        call.put("params", params);
        call.put("id", null);
        var headers = exchange.getMessage().getHeaders();
        headers.keySet().removeIf(k -> !k.startsWith("CamelRedeliver"));
        headers.put(Exchange.HTTP_METHOD, "POST");
        headers.put(Exchange.HTTP_URI, base + "/upgrade/request/" + endpoint);
        headers.put(Exchange.CONTENT_TYPE, "application/json");
        exchange.getMessage().setBody(json.writeValueAsBytes(call));
    }

    /**
     * The answer of a call ({@link #request}) as the route got it.
     *
     * @return the answer's {@code result} (an empty map when it has none)
     * @throws TransientPlatformException HTTP 5xx or an answer that is not the API's JSON
     * @throws PlatformFailureException   a JSON-RPC error ({@code result.error} or {@code error.data.message}), kept verbatim
     * @throws UnexpectedAnswerException  create answered in another shape: not asked again
     */
    public Map<String, Object> answer(Exchange exchange) throws Exception {
        String endpoint = exchange.getProperty("rpcEndpoint", String.class);
        String token = exchange.getProperty("requestKey", String.class);
        boolean create = endpoint.equals("create");
        int code = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, 0, Integer.class);
        String text = exchange.getMessage().getBody(String.class);
        exchange.getMessage().getHeaders().keySet().removeIf(k -> !k.startsWith("CamelRedeliver"));
        Map<String, Object> result = read(endpoint, code, text, create ? null : token);
        if (create) {
            String secret = result.get("token") instanceof String t && !t.isBlank() ? t : null;
            Object id = result.get("request_id");
            if (id instanceof String s && s.trim().matches("\\d{1,18}")) {
                result.put("request_id", Long.parseLong(s.trim()));
            }
            if (!(result.get("request_id") instanceof Number) || !(result.get("token") instanceof String t) || t.isBlank()
                    || !(result.get("assigned_host_uri") instanceof String)) {
                throw new UnexpectedAnswerException("'create' answered without request_id, token and assigned_host_uri: "
                        + Platform.excerpt(text, secret) + ". Not asked again: the platform may have created a request anyway.");
            }
            hostUrl((String) result.get("assigned_host_uri"));
            // everything but the token itself is text that may be shown: the token masked in it
            String handedOut = (String) result.get("token");
            Map<String, Object> shown = Secrets.maskAll(result, handedOut);
            shown.put("token", handedOut);
            return shown;
        }
        return Secrets.maskAll(result, token);
    }

    /**
     * Errors the server raised that pass when asked again (Odoo answers every exception, a database conflict too, as a
     * JSON-RPC error): PostgreSQL serialization failures, deadlocks, lock time-outs and lost connections.
     */
    private static final Pattern PASSING = Pattern.compile("(?i).*(SerializationFailure|TransactionRollback|DeadlockDetected|"
            + "LockNotAvailable|OperationalError|could not serialize access|concurrent update|deadlock detected).*", Pattern.DOTALL);

    /**
     * The answer's result, or the exception it stands for; {@code token} (null for create: then the one the answer hands
     * out) is masked in every text of it.
     */
    Map<String, Object> read(String endpoint, int code, String body, String token) throws Exception {
        Map<String, Object> answer = null;
        try {
            answer = body == null ? null : json.readValue(body, new TypeReference<Map<String, Object>>() { });
        } catch (JsonProcessingException e) {
            // not JSON: reported below with an excerpt
        }
        if (token == null && answer != null && answer.get("result") instanceof Map<?, ?> m && m.get("token") instanceof String t
                && !t.isBlank()) {
            token = t;
        }
        boolean created = endpoint.equals("create") && code >= 200 && code < 300;
        if (answer == null || !answer.containsKey("result") && !(answer.get("error") instanceof Map)) {
            String what = "'" + endpoint + "' answered HTTP " + code + " with no JSON-RPC answer: " + Platform.excerpt(body, token);
            if (created) {
                throw new UnexpectedAnswerException(what + ". Not asked again: the platform may have created a request anyway.");
            }
            throw new TransientPlatformException(what, code, null);
        }
        if (answer.get("error") instanceof Map<?, ?> error) {
            Object message = error.get("data") instanceof Map<?, ?> data && data.get("message") != null ? data.get("message")
                    : error.get("message");
            Object name = error.get("data") instanceof Map<?, ?> data ? data.get("name") : null;
            String said = Secrets.mask(String.valueOf(message), token);
            if (PASSING.matcher(name + " " + message).matches()) {
                throw new TransientPlatformException("'" + endpoint + "' answered an error that may pass: " + said, code, null);
            }
            throw new PlatformFailureException(endpoint, said);
        }
        Object result = answer.get("result");
        if (result instanceof Map<?, ?> m && m.containsKey("error")) {
            throw new PlatformFailureException(endpoint, Secrets.mask(String.valueOf(m.get("error")), token));
        }
        if (code >= 500) {
            throw new TransientPlatformException("'" + endpoint + "' answered HTTP " + code, code, null);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> out = result instanceof Map ? (Map<String, Object>) result : Map.of();
        return out;
    }

    /** Where a dump's upgrade log is kept. */
    public Path logPath(String dumpId) {
        return logsDir.resolve(dumpId + ".log");
    }

    /**
     * The request for the upgrade log on from the last byte kept ({@code Range: bytes=N-}), made by the route with
     * camel-http; how far the platform's log was read is kept beside it ({@code <id>.log.read}).
     */
    public void logRequest(Exchange exchange) throws Exception {
        String dumpId = exchange.getProperty("dumpId", String.class);
        String token = exchange.getProperty("requestKey", String.class);
        Path read = logsDir.resolve(dumpId + ".log.read");
        long have = Files.exists(read) ? Long.parseLong(Files.readString(read).trim()) : 0;
        exchange.setProperty("logRead", have);
        var headers = exchange.getMessage().getHeaders();
        headers.keySet().removeIf(k -> !k.startsWith("CamelRedeliver"));
        headers.put(Exchange.HTTP_METHOD, "GET");
        headers.put(Exchange.HTTP_URI, hostUrl(exchange.getProperty("hostUri", String.class)) + "/upgrade/request/logs?token="
                + URLEncoder.encode(token, StandardCharsets.UTF_8));
        headers.put("Range", "bytes=" + have + "-");
        exchange.getMessage().setBody(null);
    }

    /** Appends what is new of the upgrade log ({@link #logRequest}'s answer), whole lines only, the token masked in them. */
    public void appendLog(Exchange exchange) throws Exception {
        String dumpId = exchange.getProperty("dumpId", String.class);
        String token = exchange.getProperty("requestKey", String.class);
        long have = exchange.getProperty("logRead", 0L, Long.class);
        int code = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, 0, Integer.class);
        byte[] fresh;
        try (InputStream in = exchange.getMessage().getBody(InputStream.class)) {
            if (in == null || code != 200 && code != 206) {
                // 416 and the like: nothing new
                return;
            }
            if (code == 200) {
                // the whole log: only what is beyond the part read is new
                long skipped = in.skip(have);
                while (skipped < have && in.read() >= 0) {
                    skipped++;
                }
            }
            fresh = in.readNBytes(MAX_LOG_READ);
        } finally {
            exchange.getMessage().getHeaders().keySet().removeIf(k -> !k.startsWith("CamelRedeliver"));
        }
        int end = fresh.length;
        while (end > 0 && fresh[end - 1] != '\n') {
            end--;
        }
        if (end == 0) {
            return;
        }
        Files.createDirectories(logsDir);
        String lines = Secrets.mask(new String(fresh, 0, end, StandardCharsets.UTF_8), token);
        Files.writeString(logPath(dumpId), lines, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        Path tmp = logsDir.resolve(dumpId + ".log.read.tmp");
        Files.writeString(tmp, Long.toString(have + end));
        Files.move(tmp, logsDir.resolve(dumpId + ".log.read"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * A request's status in the steps' words: {@code new} (not asked to upgrade yet), {@code done}, {@code failed} (failed,
     * cancelled), {@code running} (pending, progress), and {@code unknown} for anything else (see {@link Platform#stateIs}).
     */
    public String stateIs(@ExchangeProperty("state") String status) {
        return switch (status == null ? "" : status.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "new" -> "new";
            case "done" -> "done";
            case "failed", "cancelled" -> "failed";
            case "pending", "progress", "processing" -> "running";
            default -> "unknown";
        };
    }

    /** At most this much of the log is read at one poll (the rest at the next ones). */
    private static final int MAX_LOG_READ = 4 * 1024 * 1024;
}

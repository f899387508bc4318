package com.odooupgradecourier.platform;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import org.apache.camel.Body;
import org.apache.hc.client5.http.entity.mime.MultipartEntityBuilder;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Header;

/**
 * What the routes cannot say about the platform's API: encoding its parameters, and reading its
 * answers (every answer carries {@code failures}; an empty list means success).
 */
public class Platform {
    private static final String SERVER_ERROR = "SERVER:ERROR";
    private static final String CREATE = "create";
    private static final int EXCERPT = 200;
    private final ObjectMapper json = new ObjectMapper();
    private final boolean sftpDownload;

    /** @param sftpDownload {@code upgrade.download = sftp}: a done request's archive is fetched over SFTP, not by its URL */
    public Platform(boolean sftpDownload) {
        this.sftpDownload = sftpDownload;
    }

    /**
     * A request's state in the steps' words: {@code new} (draft: not asked to upgrade yet), {@code done} (done or
     * delivered, with its archive's URL when that is how it is fetched), {@code failed} (failed, invalid, cancelled),
     * {@code running} for the states an upgrade passes through (pending, processing, progress, testing), and
     * {@code unknown} for anything else: still running while it is polled (the set is open), but before {@code process}
     * it is no proof that process was accepted.
     */
    public String stateIs(@ExchangeProperty("state") String state, @ExchangeProperty("downloadUrl") String downloadUrl) {
        return switch (state == null ? "" : state.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "draft" -> "new";
            case "done", "delivered" -> downloadUrl == null && !sftpDownload ? "running" : "done";
            case "failed", "invalid", "cancelled" -> "failed";
            case "pending", "processing", "progress", "testing" -> "running";
            default -> "unknown";
        };
    }

    /** The form body of {@code create}; {@code timezone} is sent only when set. */
    public String createForm(@ExchangeProperty("contract") String contract, @ExchangeProperty("email") String email,
                             @ExchangeProperty("target") String target, @ExchangeProperty("aim") String aim,
                             @ExchangeProperty("platformFilename") String filename,
                             @ExchangeProperty("timezone") String timezone) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("contract", contract);
        p.put("email", email);
        p.put("target", target);
        p.put("aim", aim);
        p.put("filename", filename);
        if (timezone != null && !timezone.isBlank()) {
            p.put("timezone", timezone);
        }
        return encode(p);
    }

    /** {@code request=…&key=…}: the query string or form body every call after {@code create} carries. */
    public String requestParams(@ExchangeProperty("requestId") String requestId, @ExchangeProperty("requestKey") String key) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("request", requestId);
        p.put("key", key);
        return encode(p);
    }

    /** The multipart body of {@code request_sftp_access}: the public key as the file {@code ssh_keys}. */
    public HttpEntity sshKeysForm(@Body String authorizedKeys) {
        return MultipartEntityBuilder.create()
                .addBinaryBody("ssh_keys", authorizedKeys.getBytes(StandardCharsets.US_ASCII), ContentType.TEXT_PLAIN, "authorized_keys")
                .build();
    }

    /**
     * Reads an answer of the API and returns its {@code request} object (empty when there is none).
     *
     * @throws TransientPlatformException on HTTP 5xx, non-JSON answers and {@code SERVER:ERROR}
     * @throws PlatformFailureException   on any other failure: final, the list kept verbatim
     * @throws UnexpectedAnswerException  {@code create} answered with success in another shape: not repeated
     */
    public Map<String, Object> check(@ExchangeProperty("platformMethod") String method,
                                     @Header("CamelHttpResponseCode") Integer status, @Body String body)
            throws TransientPlatformException, PlatformFailureException, UnexpectedAnswerException {
        int code = status == null ? 0 : status;
        Map<String, Object> answer = null;
        try {
            answer = body == null ? null : json.readValue(body, new TypeReference<Map<String, Object>>() { });
        } catch (JsonProcessingException e) {
            // not the API's JSON: reported below with an excerpt of what came instead
        }
        boolean created = CREATE.equals(method) && code >= 200 && code < 300;
        if (answer == null || !(answer.get("failures") instanceof List)) {
            String what = "'" + method + "' answered HTTP " + code + " with no API answer: " + excerpt(body, null);
            if (created) {
                throw new UnexpectedAnswerException(what + ". Not asked again: the platform may have created a request anyway.");
            }
            throw new TransientPlatformException(what, code, null);
        }
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> failures = (List<Map<String, Object>>) answer.get("failures");
        if (!failures.isEmpty()) {
            if (failures.stream().allMatch(f -> SERVER_ERROR.equals(f.get("reason")))) {
                throw new TransientPlatformException("'" + method + "' answered " + SERVER_ERROR + ": "
                        + failures.get(0).get("message"), code, failures);
            }
            throw new PlatformFailureException(method, failures);
        }
        if (code >= 500) {
            throw new TransientPlatformException("'" + method + "' answered HTTP " + code, code, null);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> request = answer.get("request") instanceof Map ? (Map<String, Object>) answer.get("request") : Map.of();
        if (created && (!(request.get("id") instanceof Number id) || !(id instanceof Integer || id instanceof Long) || id.longValue() <= 0
                || !(request.get("key") instanceof String key) || key.isBlank())) {
            String what = !request.containsKey("id") || !request.containsKey("key") ? "without a request id and key"
                    : "a request id that is not a positive whole number, or an empty key";
            throw new UnexpectedAnswerException("'create' answered " + what + ": " + excerpt(body, null)
                    + ". Not asked again: the platform may have created a request anyway.");
        }
        return request;
    }

    /** A short excerpt of an answer for records and the log, with {@code secret} (the key, a token) and any key in it masked. */
    static String excerpt(String body, String secret) {
        if (body == null || body.isEmpty()) {
            return "(empty body)";
        }
        String oneLine = com.odooupgradecourier.support.Secrets.mask(body.replaceAll("\\s+", " ").trim(), secret);
        return oneLine.length() <= EXCERPT ? oneLine : oneLine.substring(0, EXCERPT) + "…";
    }

    private static String encode(Map<String, String> params) {
        StringJoiner j = new StringJoiner("&");
        params.forEach((k, v) -> j.add(k + "=" + URLEncoder.encode(v == null ? "" : v, StandardCharsets.UTF_8)));
        return j.toString();
    }
}

package com.odooupgradecourier.support;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * The request {@code key} is a bearer secret to a customer's database: anything shown to a person
 * (logs, error records, notifications) goes through here first.
 */
public final class Secrets {
    public static final String MASK = "***";
    private static final Pattern KEY_PARAM = Pattern.compile("(?i)(\\b(?:key|token)=)[^&\\s\"']+");
    // the key part of the platform's URLs, up to what follows it (status, notes, archives, modules) when a key holds a '/'
    private static final Pattern KEY_IN_PATH = Pattern.compile("(/database/[A-Za-z0-9_-]+/\\d+/)(?:[^\\s\"'?#]+?"
            + "(?=/(?:status|upgraded|original|modules)(?:[/\\s\"'?#]|$))|[^/\\s\"'?#]+)");
    // the value of a JSON "key", up to its closing quote or the end of a cut-short answer
    private static final Pattern KEY_IN_JSON = Pattern.compile("(?i)(\"(?:key|token)\"\\s*:\\s*\")(?:[^\"\\\\]|\\\\.)*");

    private Secrets() {
    }

    /** Masks {@code key} wherever it appears (raw or URL-encoded), and any key-shaped URL part. */
    public static String mask(String text, String key) {
        if (text == null) {
            return null;
        }
        String out = text;
        if (key != null && !key.isEmpty()) {
            out = out.replace(key, MASK).replace(URLEncoder.encode(key, StandardCharsets.UTF_8), MASK);
        }
        out = KEY_PARAM.matcher(out).replaceAll("$1" + MASK);
        out = KEY_IN_JSON.matcher(out).replaceAll("$1" + MASK);
        return KEY_IN_PATH.matcher(out).replaceAll("$1" + MASK);
    }

    /** Every string inside a record (maps and lists, at any depth) masked as {@link #mask} does. */
    @SuppressWarnings("unchecked")
    public static <T> T maskAll(T value, String key) {
        if (value instanceof String s) {
            return (T) mask(s, key);
        }
        if (value instanceof java.util.Map<?, ?> m) {
            java.util.Map<Object, Object> out = new java.util.LinkedHashMap<>();
            m.forEach((k, v) -> out.put(k, maskAll(v, key)));
            return (T) out;
        }
        if (value instanceof java.util.List<?> l) {
            return (T) l.stream().map(v -> maskAll(v, key)).toList();
        }
        return value;
    }

    /** For URLs shown to people: the platform's URLs carry the key in their path. */
    public static String maskUrl(String url) {
        return mask(url, null);
    }

    private static final Pattern SECRET_PARAM = Pattern.compile(
            "(?i)([?&](?:password|passphrase|privateKeyPassphrase|token|secret|apiKey|accessToken|authorization)=)[^&\\s\"']+");

    /**
     * For endpoint URIs shown to people (output, notifications): password, passphrase, token and secret
     * parameters masked, and any user:password in the authority.
     */
    public static String maskUri(String uri) {
        if (uri == null) {
            return null;
        }
        String out = SECRET_PARAM.matcher(mask(uri, null)).replaceAll("$1" + MASK);
        return out.replaceAll("(//[^/@:?#]+):[^/@?#]+@", "$1:" + MASK + "@");
    }
}

package com.odooupgradecourier.simulator;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The parameter styles the platform accepts: query string, form-urlencoded body, multipart body
 * (the doc's bash and Python samples use all three). Only small bodies are read this way; the
 * dump itself never goes through here.
 */
final class HttpForms {
    static final int MAX_FORM_BYTES = 1 << 20;

    private HttpForms() {
    }

    static void parseUrlEncoded(String s, Map<String, String> into) {
        if (s == null || s.isEmpty()) {
            return;
        }
        for (String pair : s.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k = eq < 0 ? pair : pair.substring(0, eq);
            String v = eq < 0 ? "" : pair.substring(eq + 1);
            into.put(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
        }
    }

    static byte[] readLimited(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) > 0) {
            out.write(buf, 0, n);
            if (out.size() > MAX_FORM_BYTES) {
                throw new IOException("form body larger than " + MAX_FORM_BYTES + " bytes");
            }
        }
        return out.toByteArray();
    }

    /**
     * Splits a multipart/form-data body: fields without a file name go to {@code fields}, the
     * content of file parts to {@code files}, by field name.
     */
    static void parseMultipart(byte[] body, String contentType, Map<String, String> fields, Map<String, String> files) {
        String boundary = null;
        for (String part : contentType.split(";")) {
            part = part.trim();
            if (part.startsWith("boundary=")) {
                boundary = part.substring("boundary=".length()).replace("\"", "");
            }
        }
        if (boundary == null) {
            return;
        }
        String text = new String(body, StandardCharsets.ISO_8859_1);
        String delimiter = "--" + boundary;
        for (String part : text.split(java.util.regex.Pattern.quote(delimiter))) {
            if (part.startsWith("--") || part.isBlank()) {
                continue;
            }
            int headerEnd = part.indexOf("\r\n\r\n");
            if (headerEnd < 0) {
                continue;
            }
            String headers = part.substring(0, headerEnd);
            String content = part.substring(headerEnd + 4);
            if (content.endsWith("\r\n")) {
                content = content.substring(0, content.length() - 2);
            }
            String name = attribute(headers, "name");
            if (name == null) {
                continue;
            }
            String value = new String(content.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
            if (attribute(headers, "filename") != null) {
                files.put(name, value);
            } else {
                fields.put(name, value);
            }
        }
    }

    private static String attribute(String headers, String attr) {
        java.util.regex.Matcher m = java.util.regex.Pattern
                .compile("(?i)[;\\s]" + attr + "=\"([^\"]*)\"").matcher(headers);
        return m.find() ? m.group(1) : null;
    }

    static Map<String, String> query(String rawQuery) {
        Map<String, String> params = new LinkedHashMap<>();
        parseUrlEncoded(rawQuery, params);
        return params;
    }
}

package com.odooupgradecourier.service;

import java.net.InetAddress;
import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import org.apache.camel.Header;

/**
 * Who may change something over HTTP (the retry action). Bound to loopback (the default), any local client may;
 * bound elsewhere, only a request carrying {@code courier.http-token} ({@code Authorization: Bearer …}), and
 * without a token set, nobody. A request a web page of another site sends (its {@code Origin} is not this
 * server) is refused everywhere.
 */
public class HttpAccess {
    private final String host;
    private final String token;
    private final boolean loopback;

    public HttpAccess(String host, String token) {
        this.host = host.trim();
        this.token = token == null ? "" : token.trim();
        this.loopback = isLoopback(this.host);
    }

    /** What the status page says of its actions. */
    public String rule() {
        if (!token.isEmpty()) {
            return "Actions need the token (courier.http-token): POST with the header Authorization: Bearer <token>.";
        }
        return loopback ? "" : "Actions are off: the server is bound to " + host + " and courier.http-token is not set.";
    }

    /** Whether the page may offer a button that works without a token. */
    public boolean buttons() {
        return loopback && token.isEmpty();
    }

    /** Refuses a POST that is not allowed here. */
    public void checkPost(@Header("Authorization") String authorization, @Header("Origin") String origin) throws Refused {
        if (origin != null && !sameSite(origin)) {
            throw new Refused(403, "a request from another site (" + origin + ") is refused");
        }
        if (!token.isEmpty()) {
            String given = authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7) ? authorization.substring(7).trim() : "";
            if (!MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8))) {
                throw new Refused(401, "this action needs the token set in courier.http-token (Authorization: Bearer <token>)");
            }
            return;
        }
        if (!loopback) {
            throw new Refused(403, "actions are off: the server is bound to " + host + " and courier.http-token is not set");
        }
    }

    /** The JSON answer to a refused request: {@code {"error": "…"}}. */
    public java.util.Map<String, Object> answer(Exception refused) {
        return java.util.Map.of("error", String.valueOf(refused.getMessage()));
    }

    /** A browser's Origin of this server: its own host, or a loopback name when it listens there or everywhere. */
    private boolean sameSite(String origin) {
        String h;
        try {
            h = java.net.URI.create(origin.trim()).getHost();
        } catch (IllegalArgumentException e) {
            return false;
        }
        if (h == null) {
            return false;
        }
        h = h.replace("[", "").replace("]", "");
        return h.equalsIgnoreCase(host) || (loopback || isAnyLocal(host)) && isLoopback(h);
    }

    private static boolean isAnyLocal(String host) {
        return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
    }

    static boolean isLoopback(String host) {
        if (host.equals("localhost")) {
            return true;
        }
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /** An HTTP request refused, with the status to answer. */
    public static class Refused extends Exception {
        private final int status;

        public Refused(int status, String message) {
            super(message);
            this.status = status;
        }

        public int getStatus() {
            return status;
        }
    }
}

package com.odooupgradecourier.service;

import com.odooupgradecourier.support.Hosts;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import org.apache.camel.Header;

/**
 * Who may reach the HTTP side, and who may change something there (the retry action).
 *
 * <p>Every request must name this server: an address ({@code 127.0.0.1}, {@code [::1]}, {@code 192.0.2.7}),
 * {@code localhost}, this machine's name, or a name in {@code courier.http-host-names}. A page of another site that
 * points its own name at this machine (DNS rebinding) names itself, and is refused.
 *
 * <p>Actions: bound to loopback (the default), any local client may; bound elsewhere, only a request carrying
 * {@code courier.http-token} ({@code Authorization: Bearer …}), and without a token set, nobody. A request a web page
 * sends is taken only from this server's own pages: its {@code Origin} has the scheme, host and port of the request.
 */
public class HttpAccess {
    private final String host;
    private final String token;
    private final boolean loopback;
    private final Set<String> names = new LinkedHashSet<>();

    /**
     * @param host      {@code courier.http-host}, the address the server is bound to
     * @param token     {@code courier.http-token}
     * @param hostNames {@code courier.http-host-names}: further names people reach this server by (a proxy's, a DNS name)
     */
    public HttpAccess(String host, String token, Collection<String> hostNames) {
        this.host = host.trim();
        this.token = token == null ? "" : token.trim();
        this.loopback = Hosts.isLoopback(this.host);
        names.add("localhost");
        if (Hosts.literal(this.host) == null) {
            names.add(Hosts.strip(this.host));
        }
        try {
            java.net.InetAddress self = java.net.InetAddress.getLocalHost();
            names.add(self.getHostName().toLowerCase(Locale.ROOT));
            names.add(self.getCanonicalHostName().toLowerCase(Locale.ROOT));
        } catch (java.io.IOException e) {
            // only the other names then
        }
        hostNames.stream().map(Hosts::strip).filter(n -> n != null && !n.isEmpty()).forEach(names::add);
    }

    public HttpAccess(String host, String token) {
        this(host, token, Set.of());
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

    /** Whether the HTTP side is bound to loopback only. */
    public boolean loopback() {
        return loopback;
    }

    /** Whether actions need a token (set). */
    public boolean tokenSet() {
        return !token.isEmpty();
    }

    /** Refuses a request that does not name this server in its {@code Host} (a DNS-rebinding page names its own). */
    public void checkHost(@Header("Host") String hostHeader) throws Refused {
        if (hostHeader == null || hostHeader.isBlank()) {
            return; // HTTP/1.0 clients send none; a browser always does
        }
        String name = hostOf(hostHeader);
        if (name == null || Hosts.literal(name) == null && !names.contains(name)) {
            throw new Refused(403, "this server does not answer to the host name " + (name == null ? "in the request" : name)
                    + ": reach it by its address or by a name in courier.http-host-names");
        }
    }

    /** Refuses a POST that is not allowed here. */
    public void checkPost(@Header("Authorization") String authorization, @Header("Origin") String origin,
                          @Header("Host") String hostHeader) throws Refused {
        checkHost(hostHeader);
        if (origin != null && !sameOrigin(origin, hostHeader)) {
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

    /** Whether a browser's {@code Origin} is this server's own: scheme http, the host and the port of the request. */
    static boolean sameOrigin(String origin, String hostHeader) {
        if (hostHeader == null) {
            return false;
        }
        URI o;
        URI self;
        try {
            o = URI.create(origin.trim());
            self = URI.create("http://" + hostHeader.trim());
        } catch (IllegalArgumentException e) {
            return false;
        }
        return "http".equalsIgnoreCase(o.getScheme()) && o.getHost() != null && self.getHost() != null
                && Hosts.strip(o.getHost()).equals(Hosts.strip(self.getHost())) && port(o) == port(self)
                && (o.getPath() == null || o.getPath().isEmpty());
    }

    private static int port(URI uri) {
        return uri.getPort() < 0 ? 80 : uri.getPort();
    }

    /** The host part of a Host header ({@code name:port}, {@code [::1]:8080}), lower case, without brackets. */
    private static String hostOf(String hostHeader) {
        try {
            String h = URI.create("http://" + hostHeader.trim()).getHost();
            return h == null ? null : Hosts.strip(h);
        } catch (IllegalArgumentException e) {
            return null;
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

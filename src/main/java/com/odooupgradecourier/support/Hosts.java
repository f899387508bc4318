package com.odooupgradecourier.support;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What a host name or address is, decided on the text itself, never by asking DNS: a name such as
 * {@code 127.attacker.example} is a name (that anyone may point anywhere), not a loopback address.
 */
public final class Hosts {
    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1?\\d?\\d)(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]+(%[\\w.-]+)?");

    private Hosts() {
    }

    /**
     * Whether {@code host} is a loopback address written as an address ({@code 127.0.0.1}, {@code ::1}, {@code [::1]}),
     * or the name {@code localhost}. Any other name is not loopback, whatever it resolves to.
     */
    public static boolean isLoopback(String host) {
        InetAddress address = literal(host);
        return address != null ? address.isLoopbackAddress() : "localhost".equalsIgnoreCase(strip(host));
    }

    /** Whether {@code host} is the address of every interface ({@code 0.0.0.0}, {@code ::}). */
    public static boolean isAnyLocal(String host) {
        InetAddress address = literal(host);
        return address != null && address.isAnyLocalAddress();
    }

    /** The address {@code host} is when it is written as an IPv4 or IPv6 address (brackets allowed); null for a name. */
    public static InetAddress literal(String host) {
        String h = strip(host);
        if (h == null || h.isEmpty() || !(IPV4.matcher(h).matches() || h.contains(":") && IPV6.matcher(h).matches())) {
            return null;
        }
        try {
            // an address written as one: InetAddress parses it without a lookup
            return InetAddress.getByName(h);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** A host as compared: lower case, without the brackets of an IPv6 address. */
    public static String strip(String host) {
        if (host == null) {
            return null;
        }
        String h = host.trim().toLowerCase(Locale.ROOT);
        return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
    }
}

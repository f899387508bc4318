package com.odooupgradecourier.support;

import java.util.Arrays;
import java.util.Locale;
import java.util.function.Function;

/**
 * Settings read with their types, each refused in one line that names the key (and the environment variable that
 * sets it), the value and what is allowed: {@code upgrade.poll-interval (UPGRADE_POLL_INTERVAL) is 'abc': a whole
 * number of seconds, at least 1}. Blank values count as not set.
 */
public final class Settings {
    private final Function<String, String> lookup;

    private Settings(Function<String, String> lookup) {
        this.lookup = lookup;
    }

    /** Settings from a lookup that answers a key's raw value (null or blank: not set). */
    public static Settings of(Function<String, String> lookup) {
        return new Settings(lookup);
    }

    /** A setting refused: one line for the person who set it. */
    public static final class Invalid extends IllegalStateException {
        public Invalid(String message) {
            super(message);
        }
    }

    /** The value, trimmed, or {@code fallback} when not set. */
    public String text(String key, String fallback) {
        String v = lookup.apply(key);
        return v == null || v.isBlank() ? fallback : v.trim();
    }

    /** A whole number from {@code min} to {@code max}; {@code unit} says what it counts (e.g. "seconds"). */
    public long whole(String key, long fallback, long min, long max, String unit) {
        String v = text(key, null);
        if (v == null) {
            return fallback;
        }
        long n;
        try {
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw invalid(key, v, allowed(unit, min, max));
        }
        if (n < min || n > max) {
            throw invalid(key, v, allowed(unit, min, max));
        }
        return n;
    }

    /** One of {@code allowed} (compared without case), as written in {@code allowed}. */
    public String oneOf(String key, String fallback, String... allowed) {
        String v = text(key, null);
        if (v == null) {
            return fallback;
        }
        return Arrays.stream(allowed).filter(a -> a.equalsIgnoreCase(v)).findFirst()
                .orElseThrow(() -> invalid(key, v, "one of " + String.join(", ", allowed)));
    }

    /** The refusal of {@code value} for {@code key}. */
    public static Invalid invalid(String key, String value, String allowed) {
        return new Invalid(key + " (" + envName(key) + ") is '" + value + "': " + allowed);
    }

    /** The environment variable that overrides a key: upgrade.api-url -> UPGRADE_API_URL. */
    public static String envName(String key) {
        return key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    private static String allowed(String unit, long min, long max) {
        return "a whole number of " + unit + (max == Long.MAX_VALUE ? ", at least " + min : " from " + min + " to " + max);
    }
}

package com.odooupgradecourier.support;

import java.util.Map;
import java.util.Set;

/**
 * What a program the service starts (rsync and its ssh, pg_restore, psql) gets of the service's environment: where
 * programs are, the language, the time zone, the temporary folder and the home folder (ssh reads its own settings
 * there) — never the service's own settings and secrets (the contract, the store's and the sources' passwords).
 */
public final class ProgramEnvironment {
    private static final Set<String> KEPT = Set.of("PATH", "LANG", "LANGUAGE", "TZ", "TMPDIR", "HOME");

    private ProgramEnvironment() {
    }

    /** Removes from {@code env} (a ProcessBuilder's) everything but what {@link ProgramEnvironment} keeps. */
    public static void keepOnlyWhatProgramsNeed(Map<String, String> env) {
        env.keySet().removeIf(k -> !KEPT.contains(k) && !k.startsWith("LC_"));
    }
}

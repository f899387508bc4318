package com.odooupgradecourier.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProgramEnvironmentTest {
    @Test
    void programsKeepWhatTheyNeedToRunAndNoneOfTheServicesSettings() {
        Map<String, String> env = new HashMap<>(Map.of("PATH", "/usr/bin", "HOME", "/var/lib/courier", "LANG", "C.UTF-8",
                "LC_ALL", "C.UTF-8", "TZ", "UTC", "TMPDIR", "/tmp", "UPGRADE_CONTRACT", "M-SECRET", "COURIER_STORE_PASSWORD", "secret",
                "PGPASSWORD", "secret", "SSH_AUTH_SOCK", "/run/agent"));
        ProgramEnvironment.keepOnlyWhatProgramsNeed(env);
        assertThat(env).containsOnlyKeys("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR");
    }
}

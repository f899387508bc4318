package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * External programs some tests drive (OpenSSH's sftp, curl). On a developer's machine without them
 * those tests are skipped; in CI ({@code CI=true}, where .ci/run installs them) a missing one fails.
 */
public final class Tools {
    private Tools() {
    }

    /** Runs a program to its end and returns what it printed; a non-zero exit fails the test. */
    public static String run(String... command) throws Exception {
        Path errors = Files.createTempFile("tool", ".err");
        try {
            Process p = new ProcessBuilder(command).redirectError(errors.toFile()).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            int code = p.waitFor();
            assertThat(code).as("%s failed: %s", command[0], Files.readString(errors)).isZero();
            return out;
        } finally {
            Files.deleteIfExists(errors);
        }
    }

    /** Where a program is on the PATH (the test fails in CI, and is skipped elsewhere, when it is not). */
    public static Path which(String program) {
        require(program);
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return Path.of(dir, program);
            }
        }
        throw new IllegalStateException(program);
    }

    public static void require(String program) {
        boolean found = false;
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            found |= Files.isExecutable(Path.of(dir, program));
        }
        if ("true".equals(System.getenv("CI"))) {
            assertThat(found).as(program + " must be installed in CI (.ci/run)").isTrue();
        }
        assumeTrue(found, program + " is not installed: test skipped");
    }
}

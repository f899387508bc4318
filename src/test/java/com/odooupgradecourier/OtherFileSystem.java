package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A folder on another file system than the test's own (a tmpfs: {@code COURIER_TEST_OTHER_FS}, default
 * {@code /dev/shm}), where a rename from the test's folders cannot be atomic. In CI ({@code CI=true}) a
 * missing one fails; elsewhere the test is skipped.
 */
public final class OtherFileSystem {
    private OtherFileSystem() {
    }

    public static Path folder(Path tmp) throws Exception {
        Path base = Path.of(System.getenv().getOrDefault("COURIER_TEST_OTHER_FS", "/dev/shm"));
        boolean other = Files.isDirectory(base) && Files.isWritable(base)
                && !Files.getFileStore(base).equals(Files.getFileStore(tmp));
        if ("true".equals(System.getenv("CI"))) {
            assertThat(other).as(base + " must be a writable folder on another file system than " + tmp + " in CI (.ci/run)").isTrue();
        }
        assumeTrue(other, base + " is not on another file system: test skipped");
        Path dir = Files.createTempDirectory(base, "courier-test-");
        dir.toFile().deleteOnExit();
        return dir;
    }
}

package com.odooupgradecourier.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A folder has not enough free space for what is to be written there yet: a fault that may pass (the dump waits). */
public class NotEnoughSpaceException extends IOException {
    public NotEnoughSpaceException(String message) {
        super(message);
    }

    /**
     * Nothing is written when {@code dir} (or the nearest folder of it that exists) has less than {@code bytes} free:
     * a clear waiting message instead of a half-written file.
     */
    public static void require(Path dir, long bytes, String what) throws IOException {
        Path at = dir.toAbsolutePath();
        while (at != null && !Files.exists(at)) {
            at = at.getParent();
        }
        if (at == null || bytes <= 0) {
            return;
        }
        long free = Files.getFileStore(at).getUsableSpace();
        if (free < bytes) {
            throw new NotEnoughSpaceException("not enough free space in " + dir + " for " + what + ": " + human(bytes) + " needed, "
                    + human(free) + " free; waiting until there is");
        }
    }

    private static String human(long bytes) {
        return bytes >= 1L << 30 ? String.format(java.util.Locale.ROOT, "%.1f GB", bytes / (double) (1L << 30))
                : String.format(java.util.Locale.ROOT, "%.1f MB", bytes / (double) (1L << 20));
    }
}

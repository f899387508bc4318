package com.odooupgradecourier.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Map;

/**
 * What says a file is still the one that was read: its device and inode, size, modification time, and change time
 * (which a writer cannot set back, as it can the modification time with {@code touch -r}; a move of the file by the
 * service changes it too). Read from the file itself, never from what a link points to.
 *
 * @param fileKey  device and inode
 * @param plain    whether it is a regular file (not a link, not a folder)
 */
public record FileStamp(String fileKey, long size, FileTime modified, FileTime changed, boolean plain) {

    public static FileStamp of(Path file) throws IOException {
        Map<String, Object> a = Files.readAttributes(file, "unix:ino,dev,size,lastModifiedTime,ctime,isRegularFile",
                LinkOption.NOFOLLOW_LINKS);
        return new FileStamp(a.get("dev") + ":" + a.get("ino"), (Long) a.get("size"), (FileTime) a.get("lastModifiedTime"),
                (FileTime) a.get("ctime"), (Boolean) a.get("isRegularFile"));
    }

    /** Whether the content may differ: another size or modification time (a move keeps both; a write changes them). */
    public boolean contentMayDiffer(FileStamp other) {
        return size != other.size || !modified.equals(other.modified);
    }

    /** Whether the content may differ from a stored stamp's ({@link #text}): another size or modification time. */
    public boolean contentMayDiffer(String stored) {
        String[] p = stored.split(" ");
        return p.length < 3 || size != Long.parseLong(p[1]) || nanos(modified) != Long.parseLong(p[2]);
    }

    /** As stored: {@code dev:ino size modified-nanos changed-nanos}. */
    public String text() {
        return fileKey + " " + size + " " + nanos(modified) + " " + nanos(changed);
    }

    /** The size and modification time of a stored stamp, as people read them. */
    public static String describe(String text) {
        String[] p = text.split(" ");
        return p.length < 3 ? text : p[1] + " bytes, modified " + Instant.EPOCH.plusNanos(Long.parseLong(p[2]));
    }

    /** This stamp's size and modification time, as people read them. */
    public String describe() {
        return describe(text());
    }

    private static long nanos(FileTime t) {
        Instant i = t.toInstant();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }
}

package com.odooupgradecourier.support;

import com.odooupgradecourier.dump.Custody;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.odooupgradecourier.OtherFileSystem;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Moves that never replace a file and finish what a crash cut short, on one file system and across two. */
class MovesTest {
    @TempDir
    Path tmp;

    @Test
    void aCopyAcrossFileSystemsNeverReplacesAFileThatIsThere() throws Exception {
        Path other = OtherFileSystem.folder(tmp);
        Path archive = Files.writeString(tmp.resolve("archive"), "upgraded database");
        Path taken = Files.writeString(other.resolve("upgraded_cee.dump.zip"), "precious");
        assertThatThrownBy(() -> Moves.copyNew(archive, taken)).isInstanceOf(FileAlreadyExistsException.class);
        assertThat(taken).hasContent("precious");
        Moves.copyNew(archive, other.resolve("upgraded_cee-10535.dump.zip"));
        assertThat(other.resolve("upgraded_cee-10535.dump.zip")).hasContent("upgraded database");
        assertThat(archive).exists();
        try (var left = Files.list(other)) {
            assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(".incoming-"));
        }
    }

    @Test
    void aMoveCutShortBetweenItsTwoNamesIsFinishedAndACustodyTakeToo() throws Exception {
        Path source = Files.writeString(Files.createDirectories(tmp.resolve("drop/.courier/id1")).resolve("cw.sql"), "SET x = 1;");
        Path target = Files.createDirectories(tmp.resolve("data/dumps/id1")).resolve("cw.sql");
        Files.createLink(target, source);
        Moves.moveNew(source, target);
        assertThat(source).doesNotExist();
        assertThat(target).hasContent("SET x = 1;");

        Path again = Files.writeString(tmp.resolve("drop/.courier/id1/cw.sql"), "SET x = 1;");
        org.apache.camel.Exchange ex = new org.apache.camel.support.DefaultExchange(new org.apache.camel.impl.DefaultCamelContext());
        ex.setProperty("dumpPath", again.toString());
        ex.setProperty("dumpId", "id1");
        new Custody(tmp.resolve("data")).take(ex);
        assertThat(again).doesNotExist();
        assertThat(ex.getProperty("dumpPath", String.class)).isEqualTo(target.toAbsolutePath().toString());
    }

    @Test
    void leftoversOfMovesACrashCutShortAreRemovedAndNothingElse() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("failed"));
        Files.writeString(dir.resolve(".incoming-0b2c4d6e-1a2b-4c3d-9e8f-001122334455.tmp"), "half");
        Files.writeString(dir.resolve(".incoming-notours.tmp"), "a user's");
        Files.writeString(dir.resolve("kept.sql"), "dump");
        Moves.removeLeftovers(dir);
        try (var left = Files.list(dir)) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder(".incoming-notours.tmp", "kept.sql");
        }
    }
}

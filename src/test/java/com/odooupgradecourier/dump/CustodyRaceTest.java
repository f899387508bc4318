package com.odooupgradecourier.dump;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;

/** Dumps of one name failing at the same moment: each keeps a place of its own in failed/. */
class CustodyRaceTest {
    @TempDir
    Path tmp;

    @org.junit.jupiter.api.RepeatedTest(20)
    void sameNameDumpsMovedToFailedAtOnceAreAllKept(org.junit.jupiter.api.RepetitionInfo round) throws Exception {
        int n = 8;
        Path failed = tmp.resolve("failed-" + round.getCurrentRepetition());
        List<Path> dumps = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            dumps.add(Files.writeString(Files.createDirectories(tmp.resolve("custody/" + round.getCurrentRepetition() + "/" + i))
                    .resolve("backup.zip"), "customer " + i));
        }
        ExecutorService pool = Executors.newFixedThreadPool(n);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<String>> moved = new ArrayList<>();
        for (Path dump : dumps) {
            moved.add(pool.submit(() -> {
                start.await();
                return new Custody(tmp.resolve("data")).moveToFailed(dump.toString(), failed.toString(), "backup.zip");
            }));
        }
        start.countDown();
        List<String> places = new ArrayList<>();
        for (Future<String> f : moved) {
            places.add(f.get());
        }
        pool.shutdown();
        assertThat(places).doesNotHaveDuplicates();
        try (Stream<Path> files = Files.list(failed)) {
            assertThat(files.map(p -> {
                try {
                    return Files.readString(p);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).toList()).containsExactlyInAnyOrder("customer 0", "customer 1", "customer 2", "customer 3",
                    "customer 4", "customer 5", "customer 6", "customer 7");
        }
    }
}

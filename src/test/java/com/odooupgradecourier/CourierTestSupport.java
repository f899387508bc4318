package com.odooupgradecourier;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/** What the in-process flow tests share: a folder of their own, one service (stopped after), error records. */
abstract class CourierTestSupport {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;
    CourierHarness courier;

    @AfterEach
    void stopCourier() throws Exception {
        if (courier != null) {
            courier.close();
        }
    }

    /** Waits for the dead-letter record of {@code dumpName} and reads it. */
    JsonNode awaitRecord(String dumpName) throws Exception {
        Path record = courier.failed.resolve(dumpName + ".error.json");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(record));
        return JSON.readTree(record.toFile());
    }
}

package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.odooupgradecourier.platform.PlatformFailureException;
import com.odooupgradecourier.platform.TransientPlatformException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.sql.DataSource;
import org.apache.camel.Exchange;
import org.apache.camel.builder.NotifyBuilder;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.main.MainConfigurationProperties;
import org.apache.camel.test.junit5.CamelContextConfiguration;
import org.apache.camel.test.main.junit5.CamelMainTestSupport;
import org.junit.jupiter.api.Test;

/**
 * The state machine's branches through the routes as Camel Main loads them (routes/*.yaml, the beans of
 * {@link CourierConfiguration}, a SQLite store), with the protocol's calls (direct:platform-*) replaced by mocks that answer
 * as the test says: no platform, no network, seconds per branch.
 */
class StepRoutesTest extends CamelMainTestSupport {
    private final AtomicInteger statusCalls = new AtomicInteger();
    private Path root;

    /** This test's folder (made on first use: Camel's test support configures the context from its constructor). */
    private Path root() {
        if (root == null) {
            try {
                root = Files.createTempDirectory("step-routes");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return root;
    }

    @Override
    protected void configure(MainConfigurationProperties configuration) {
        configuration.addConfiguration(CourierConfiguration.class);
        // the steps every protocol shares, without a protocol's calls: those are the mocks
        configuration.withRoutesIncludePattern("file:routes/*.yaml");
    }

    @Override
    protected String getPropertyPlaceholderLocations() {
        return "file:application.properties";
    }

    @Override
    public void configureContext(CamelContextConfiguration context) {
        super.configureContext(context);
        Properties p = new Properties();
        p.put("courier.drop-dir", root().resolve("drop").toString());
        p.put("courier.data-dir", root().resolve("data").toString());
        p.put("courier.failed-dir", root().resolve("failed").toString());
        p.put("courier.output-uri", "file:" + root().resolve("out"));
        p.put("courier.http-port", String.valueOf(freePort()));
        p.put("upgrade.api-url", "http://127.0.0.1:9/database/v1");
        p.put("upgrade.contract", "M-STEPS");
        p.put("upgrade.email", "steps@example.com");
        p.put("courier.settle-time", "100");
        p.put("courier.queue-interval", "100");
        p.put("upgrade.poll-interval", "1");
        p.put("upgrade.retry.attempts", "2");
        p.put("upgrade.retry.delay", "10");
        p.put("upgrade.retry.max-delay", "50");
        context.withUseOverridePropertiesWithPropertiesComponent(p).withMockEndpointsAndSkip("direct:platform*");
    }

    /** The platform as these tests say it answers, unless a test says otherwise. */
    private void platformAnswers(String statusAfterProcess) throws Exception {
        mock("create").whenAnyExchangeReceived(e -> {
            e.setProperty("requestId", 10534L);
            e.setProperty("requestKey", "k-" + e.getProperty("dumpId"));
        });
        mock("status").whenAnyExchangeReceived(e -> {
            boolean processed = statusCalls.getAndIncrement() > 0;
            e.setProperty("state", processed ? statusAfterProcess : "draft");
            e.setProperty("stateIs", !processed ? "new" : switch (statusAfterProcess) {
                case "done" -> "done";
                case "failed" -> "failed";
                default -> "running";
            });
        });
        mock("download").whenAnyExchangeReceived(e -> archive(Path.of(e.getProperty("archivePath", String.class))));
    }

    @Test
    void aDumpGoesThroughEveryStepToDeliveredAndEachStepIsAskedOnce() throws Exception {
        platformAnswers("done");
        NotifyBuilder delivered = new NotifyBuilder(context).fromRoute("deliver").whenCompleted(1).create();
        drop("happy.sql");
        assertThat(delivered.matches(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        awaitStep("delivered");
        assertThat(root().resolve("out/upgraded_happy.sql.zip")).exists();
        for (String call : List.of("create", "upload", "upload-done", "process", "download", "download-done")) {
            assertThat(mock(call).getReceivedCounter()).as(call).isEqualTo(1);
        }
        assertThat(store().queryForList("select transition from dump_events order by at_millis, transition", String.class))
                .contains("received", "admitted", "created", "upload-started", "uploaded", "processing", "upgraded",
                        "download-started", "downloaded", "delivered");
    }

    @Test
    void aFaultThatPassesIsRetriedInTheStepAndOnlyTheFailedCallIsAskedAgain() throws Exception {
        platformAnswers("done");
        AtomicInteger closes = new AtomicInteger();
        mock("upload-done").whenAnyExchangeReceived(e -> {
            if (closes.incrementAndGet() == 1) {
                throw new TransientPlatformException("'transfer/stop' answered HTTP 503", 503, null);
            }
        });
        drop("flaky.sql");
        awaitStep("delivered");
        assertThat(mock("upload").getReceivedCounter()).as("the finished transfer is not made again").isEqualTo(1);
        assertThat(closes.get()).isEqualTo(2);
    }

    @Test
    void aFinalAnswerOfThePlatformFailsTheDumpWithARecordAndNothingMore() throws Exception {
        platformAnswers("done");
        mock("create").whenAnyExchangeReceived(e -> {
            throw new PlatformFailureException("create", List.of(Map.of("reason", "CONTRACT:NOT_FOUND", "message", "no such contract")));
        });
        drop("refused.sql");
        awaitStep("failed");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(root().resolve("failed/refused.sql.error.json")));
        assertThat(Files.readString(root().resolve("failed/refused.sql.error.json"))).contains("CONTRACT:NOT_FOUND", "Correct the contract");
        assertThat(mock("create").getReceivedCounter()).as("not asked again").isEqualTo(1);
        assertThat(mock("upload").getReceivedCounter()).isZero();
    }

    @Test
    void aFaultThatKeepsComingParksTheDumpUntilItsLifetimeEnds() throws Exception {
        platformAnswers("done");
        context.getPropertiesComponent().addOverrideProperty("upgrade.timeout", "2");
        mock("create").whenAnyExchangeReceived(e -> {
            throw new TransientPlatformException("'create' answered HTTP 503", 503, null);
        });
        drop("down.sql");
        await().atMost(Duration.ofSeconds(30)).until(() -> store().queryForList("select transition from dump_events", String.class)
                .contains("parked"));
        assertThat(store().queryForObject("select step from dumps", String.class)).isIn("admitted", "failed");
    }

    @Test
    void aRequestThePlatformEndedAsFailedFailsTheDumpWithItsMessage() throws Exception {
        platformAnswers("failed");
        mock("status").whenAnyExchangeReceived(e -> {
            boolean processed = statusCalls.getAndIncrement() > 0;
            e.setProperty("state", processed ? "failed" : "draft");
            e.setProperty("stateIs", processed ? "failed" : "new");
            e.setProperty("customerMessage", "module legacy_report has no equivalent");
        });
        drop("broken.sql");
        awaitStep("failed");
        assertThat(store().queryForObject("select last_error from dumps", String.class)).contains("module legacy_report");
        assertThat(mock("download").getReceivedCounter()).isZero();
    }

    @Test
    void aRequestAlreadyProcessingIsNotProcessedAgain() throws Exception {
        platformAnswers("done");
        mock("status").whenAnyExchangeReceived(e -> {
            statusCalls.incrementAndGet();
            e.setProperty("state", "done");
            e.setProperty("stateIs", "done");
        });
        drop("again.sql");
        awaitStep("delivered");
        assertThat(mock("process").getReceivedCounter()).as("its status said it left its first state").isZero();
    }

    @Test
    void theSameDumpTwiceIsSentOnce() throws Exception {
        platformAnswers("running");
        drop("first.sql");
        awaitStep("processing");
        Files.copy(root().resolve("staging/first.sql"), root().resolve("staging/second.sql"));
        Files.move(root().resolve("staging/second.sql"), root().resolve("drop/second.sql"));
        await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(root().resolve("failed/second.sql.error.json")));
        assertThat(Files.readString(root().resolve("failed/second.sql.error.json"))).contains("already in flight as first.sql");
        assertThat(mock("create").getReceivedCounter()).isEqualTo(1);
    }

    // ------------------------------------------------------------------ helpers

    private MockEndpoint mock(String call) {
        return getMockEndpoint("mock:direct:platform-" + call);
    }

    private void drop(String name) throws IOException {
        Path staged = TestDumps.plainSql(root().resolve("staging/" + name), name.length() * 7 + 3);
        Files.createDirectories(root().resolve("drop"));
        Files.copy(staged, root().resolve("drop/.tmp-" + name));
        Files.move(root().resolve("drop/.tmp-" + name), root().resolve("drop/" + name));
    }

    private TestStore store() {
        return new TestStore(context.getRegistry().lookupByNameAndType("store", DataSource.class));
    }

    private void awaitStep(String step) {
        await().atMost(Duration.ofSeconds(30)).until(() -> store().queryForList("select step from dumps", String.class).contains(step));
    }

    /** What a download leaves: the upgraded archive, a zip. */
    private static void archive(Path to) {
        try {
            Files.createDirectories(to.getParent());
            try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(to))) {
                z.putNextEntry(new ZipEntry("dump.sql"));
                z.write("SELECT 1;\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                z.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int freePort() {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

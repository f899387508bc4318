package com.odooupgradecourier.service;

import com.odooupgradecourier.transfer.Progress;

import com.odooupgradecourier.store.Reports;
import com.odooupgradecourier.store.Step;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.camel.ExchangeProperty;

/**
 * The service's meters, all served by {@code /observe/metrics} with Camel's own: dumps received, delivered and
 * failed, restores by outcome (there from the start, at 0), bytes moved, dumps per step, dumps waiting after a fault
 * and how long the oldest has waited, whether the store answers (read from the store at most every few seconds), the
 * free space of the data folder, and how long dumps took from the drop folder to delivery. The dashboard and alerts in
 * {@code deploy/} use these names.
 */
public class Metrics {
    private static final long STEPS_FRESH_MILLIS = 5_000;
    private final MeterRegistry registry;
    private final Reports reports;
    private final Timer delivery;
    private volatile Reports.Counts counts;
    private volatile long countsAt;

    /** The courier's meters in {@code registry}: the one Camel serves on /observe/metrics. */
    public Metrics(MeterRegistry registry, String camelContext, Reports reports, Path dataDir, Progress progress, Cluster cluster) {
        this.registry = registry;
        this.reports = reports;
        Gauge.builder("courier.cluster.leader", cluster, c -> c.leading() ? 1 : 0)
                .description("1 on the node that leads (works on the dumps), 0 on a node that stands by").register(registry);
        // the routes count with micrometer:counter:courier.dumps.*, which tags each meter with its context
        Counter.builder("courier.dumps.received").tag("camelContext", camelContext)
                .description("dumps taken from the drop folder").register(registry);
        Counter.builder("courier.dumps.delivered").tag("camelContext", camelContext)
                .description("upgraded archives delivered").register(registry);
        Counter.builder("courier.dumps.failed").tag("camelContext", camelContext)
                .description("dumps that failed, with an error record").register(registry);
        for (String outcome : new String[] {"restored", "failed"}) {
            Counter.builder("courier.restores").tag("camelContext", camelContext).tag("outcome", outcome)
                    .description("restores into PostgreSQL, by outcome").register(registry);
        }
        FunctionCounter.builder("courier.bytes.transferred", progress, Progress::bytesTransferred)
                .description("bytes of dumps uploaded and archives downloaded").baseUnit("bytes").register(registry);
        for (Step step : Step.values()) {
            Gauge.builder("courier.dumps.in.step", this, m -> m.fresh() == null ? Double.NaN : m.fresh().in(step)).tag("step", step.id())
                    .description("dumps in each step, from the store").register(registry);
        }
        Gauge.builder("courier.dumps.waiting", this, m -> m.fresh() == null ? Double.NaN : m.fresh().waiting())
                .description("unfinished dumps waiting after a fault for their next attempt").register(registry);
        Gauge.builder("courier.dumps.oldest.waiting", this, m -> m.fresh() == null ? Double.NaN : m.fresh().oldestWaitingMillis() / 1000.0)
                .baseUnit("seconds").description("how long the dump waiting longest after a fault has waited since its last step "
                        + "forward (0 when none waits)").register(registry);
        Gauge.builder("courier.store.up", this, m -> m.fresh() == null ? 0 : 1)
                .description("1 while the store answers, 0 when it does not").register(registry);
        Gauge.builder("courier.data.free", dataDir, d -> space(d, true)).baseUnit("bytes")
                .description("usable space on the file system of the data folder (custody, downloads)").register(registry);
        Gauge.builder("courier.data.size", dataDir, d -> space(d, false)).baseUnit("bytes")
                .description("size of the file system of the data folder").register(registry);
        delivery = Timer.builder("courier.dump.delivery").description("time from the drop folder to delivery")
                .serviceLevelObjectives(Duration.ofMinutes(1), Duration.ofMinutes(10), Duration.ofMinutes(30), Duration.ofHours(1),
                        Duration.ofHours(3), Duration.ofHours(12), Duration.ofDays(1), Duration.ofDays(3))
                .register(registry);
    }

    /** The registry Camel's Prometheus endpoint serves: the one already bound, or a new one the caller binds. */
    public static PrometheusMeterRegistry servedRegistry(org.apache.camel.spi.Registry camel) {
        PrometheusMeterRegistry found = camel.findSingleByType(PrometheusMeterRegistry.class);
        return found != null ? found : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    }

    /** A dump was delivered: how long since it was received. */
    public void delivered(@ExchangeProperty("receivedMillis") Long receivedMillis) {
        if (receivedMillis != null) {
            delivery.record(Duration.ofMillis(Math.max(0, System.currentTimeMillis() - receivedMillis)));
        }
    }

    /** What the store says now (read again at most every few seconds); null while it does not answer. */
    private Reports.Counts fresh() {
        long now = System.currentTimeMillis();
        if (now - countsAt > STEPS_FRESH_MILLIS) {
            countsAt = now;
            try {
                counts = reports.counts(now);
            } catch (Exception e) {
                counts = null;
            }
        }
        return counts;
    }

    private static double space(Path dir, boolean usable) {
        try {
            java.nio.file.FileStore fs = java.nio.file.Files.getFileStore(dir);
            return usable ? fs.getUsableSpace() : fs.getTotalSpace();
        } catch (java.io.IOException e) {
            return Double.NaN;
        }
    }
}

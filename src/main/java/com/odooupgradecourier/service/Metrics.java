package com.odooupgradecourier.service;

import com.odooupgradecourier.transfer.Progress;

import com.odooupgradecourier.store.Step;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.camel.ExchangeProperty;

/**
 * The service's meters, all served by {@code /observe/metrics} with Camel's own: dumps received, delivered and
 * failed (there from the start, at 0), bytes moved, dumps per step (read from the store at most every few
 * seconds), and how long dumps took from the drop folder to delivery.
 */
public class Metrics {
    private static final long STEPS_FRESH_MILLIS = 5_000;
    private final MeterRegistry registry;
    private final DataSource store;
    private final Timer delivery;
    private volatile Map<Step, Long> perStep = new EnumMap<>(Step.class);
    private volatile long perStepAt;

    /** The courier's meters in {@code registry}: the one Camel serves on /observe/metrics. */
    public Metrics(MeterRegistry registry, String camelContext, DataSource store, Progress progress, Cluster cluster) {
        this.registry = registry;
        this.store = store;
        Gauge.builder("courier.cluster.leader", cluster, c -> c.leading() ? 1 : 0)
                .description("1 on the node that leads (works on the dumps), 0 on a node that stands by").register(registry);
        // the routes count with micrometer:counter:courier.dumps.*, which tags each meter with its context
        Counter.builder("courier.dumps.received").tag("camelContext", camelContext)
                .description("dumps taken from the drop folder").register(registry);
        Counter.builder("courier.dumps.delivered").tag("camelContext", camelContext)
                .description("upgraded archives delivered").register(registry);
        Counter.builder("courier.dumps.failed").tag("camelContext", camelContext)
                .description("dumps that failed, with an error record").register(registry);
        FunctionCounter.builder("courier.bytes.transferred", progress, Progress::bytesTransferred)
                .description("bytes of dumps uploaded and archives downloaded").baseUnit("bytes").register(registry);
        for (Step step : Step.values()) {
            Gauge.builder("courier.dumps.in.step", this, m -> m.count(step)).tag("step", step.id())
                    .description("dumps in each step, from the store").register(registry);
        }
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

    private double count(Step step) {
        long now = System.currentTimeMillis();
        if (now - perStepAt > STEPS_FRESH_MILLIS) {
            perStepAt = now;
            Map<Step, Long> fresh = new EnumMap<>(Step.class);
            try (Connection c = store.getConnection();
                 ResultSet rs = c.createStatement().executeQuery("select step, count(*) from dumps group by step")) {
                while (rs.next()) {
                    fresh.put(Step.of(rs.getString(1)), rs.getLong(2));
                }
                perStep = fresh;
            } catch (Exception e) {
                return Double.NaN;
            }
        }
        return perStep.getOrDefault(step, 0L);
    }
}

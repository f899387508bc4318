package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * What ships in deploy/ for Grafana and Prometheus holds against the service: every metric the dashboard and the alert
 * rules name is one /observe/metrics really serves (from the start, before anything happened), the rules pass
 * {@code promtool check rules} and their unit tests ({@code promtool test rules}).
 */
class DashboardsIT extends CourierTestSupport {
    private static final Path DASHBOARD = Path.of("deploy", "grafana", "courier-dashboard.json");
    private static final Path ALERTS = Path.of("deploy", "prometheus", "courier-alerts.yml");
    private static final Pattern METRIC = Pattern.compile("\\b(courier_[a-z0-9_]+)\\b");

    @Test
    void everyMetricTheDashboardAndTheAlertsNameIsServed() throws Exception {
        Set<String> named = new TreeSet<>();
        JsonNode dashboard = JSON.readTree(DASHBOARD.toFile());
        for (JsonNode panel : dashboard.path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                named.addAll(metrics(target.path("expr").asText()));
            }
        }
        for (String line : Files.readAllLines(ALERTS)) {
            if (line.strip().startsWith("expr:")) {
                named.addAll(metrics(line));
            }
        }
        assertThat(named).contains("courier_dumps_delivered_total", "courier_dump_delivery_seconds_bucket", "courier_cluster_leader",
                "courier_store_up", "courier_data_free_bytes", "courier_dumps_oldest_waiting_seconds", "courier_restores_total",
                "courier_rehearsals_total");

        // one source rehearsed (never, this year): its meters are there from the start too
        courier = new CourierHarness(tmp).with("courier.sources", "acme")
                .with("courier.source.acme.url", "jdbc:postgresql://127.0.0.1:5432/acme").with("courier.source.acme.user", "x")
                .with("courier.source.acme.password", "y").with("courier.source.acme.schedule", "0 0 3 1 1 ? 2099").start();
        HttpClient http = HttpClient.newHttpClient();
        Set<String> served = new TreeSet<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            String text = http.send(HttpRequest.newBuilder(URI.create(courier.http() + "/observe/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            served.clear();
            for (String line : text.split("\n")) {
                if (!line.startsWith("#") && !line.isBlank()) {
                    served.add(line.split("[{ ]", 2)[0]);
                }
            }
            return served.contains("courier_store_up");
        });
        assertThat(served).as("the metrics /observe/metrics serves").containsAll(named);
    }

    @Test
    void theAlertRulesPassPromtoolAndTheirOwnTests() throws Exception {
        Tools.require("promtool");
        assertThat(Tools.run("promtool", "check", "rules", ALERTS.toString())).contains("SUCCESS: 7 rules found");
        assertThat(Tools.run("promtool", "test", "rules", ALERTS.resolveSibling("courier-alerts.test.yml").toString())).contains("SUCCESS");
    }

    private static Set<String> metrics(String expr) {
        Set<String> names = new TreeSet<>();
        Matcher m = METRIC.matcher(expr);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }
}

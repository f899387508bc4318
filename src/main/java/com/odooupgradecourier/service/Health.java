package com.odooupgradecourier.service;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckHelper;

/**
 * {@code GET /observe/health}: every health check (Camel's routes and consumers, the store, the drop folder) as
 * plain JSON, HTTP 503 when one is down. Readiness includes the store (a real query) and the drop folder.
 */
public class Health {

    public Map<String, Object> report(Exchange exchange) {
        boolean up = true;
        List<Map<String, Object>> checks = new ArrayList<>();
        for (HealthCheck.Result r : HealthCheckHelper.invoke(exchange.getContext())) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("name", r.getCheck().getId());
            c.put("status", r.getState().name());
            r.getMessage().ifPresent(m -> c.put("message", m));
            checks.add(c);
            up &= r.getState() != HealthCheck.State.DOWN;
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("status", up ? "UP" : "DOWN");
        report.put("checks", checks);
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, up ? 200 : 503);
        return report;
    }
}

package com.odooupgradecourier.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.odooupgradecourier.failure.ErrorRecords;
import com.odooupgradecourier.support.Secrets;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.camel.Exchange;

/** The JSON event sent to {@code courier.notify-uri} when a dump is delivered, fails, is restored or its restore fails. */
public class Notifications {
    private final ObjectMapper json = new ObjectMapper();
    private final String outputUri;

    public Notifications(String outputUri) {
        this.outputUri = outputUri;
    }

    public String delivered(Exchange exchange) throws JsonProcessingException {
        Map<String, Object> e = common(exchange, "delivered");
        e.put("archive", Secrets.maskUri(outputUri) + " " + exchange.getProperty("deliveredName"));
        return render(exchange, e);
    }

    /** The archive delivered earlier is restored into a new database: {@code restored_to} names it. */
    public String restored(Exchange exchange) throws JsonProcessingException {
        Map<String, Object> e = common(exchange, "restored");
        e.put("archive", Secrets.maskUri(outputUri) + " " + exchange.getProperty("deliveredName"));
        e.put("restored_to", exchange.getProperty("restoredTo"));
        e.put("filestore", exchange.getProperty("filestorePath"));
        e.put("missing_attachments", exchange.getProperty("missingAttachments"));
        e.put("neutralized", exchange.getProperty("neutralized"));
        return render(exchange, e);
    }

    /** The restore failed: the archive stays delivered; the error ends with the program's last lines. */
    public String restoreFailed(Exchange exchange) throws JsonProcessingException {
        Map<String, Object> e = common(exchange, "restore-failed");
        e.put("archive", Secrets.maskUri(outputUri) + " " + exchange.getProperty("deliveredName"));
        e.put("restored_to", null);
        e.put("error", exchange.getProperty("lastError"));
        return render(exchange, e);
    }

    public String failed(Exchange exchange) throws JsonProcessingException {
        Map<String, Object> e = common(exchange, "failed");
        e.put("step", exchange.getProperty("step"));
        e.put("error", ErrorRecords.describe(ErrorRecords.failure(exchange)));
        e.put("error_record", exchange.getProperty("recordPath"));
        e.put("dump_now_at", exchange.getProperty("dumpPath"));
        return render(exchange, e);
    }

    private static Map<String, Object> common(Exchange exchange, String outcome) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("event", "dump-" + outcome);
        e.put("outcome", outcome);
        e.put("dump", exchange.getProperty("fileName"));
        e.put("request_id", exchange.getProperty("requestId"));
        e.put("target", exchange.getProperty("target"));
        e.put("aim", exchange.getProperty("aim"));
        e.put("state", exchange.getProperty("state"));
        e.put("customer_message", exchange.getProperty("customerMessage"));
        e.put("at", OffsetDateTime.now(ZoneOffset.UTC).toString());
        return e;
    }

    private String render(Exchange exchange, Map<String, Object> event) throws JsonProcessingException {
        return json.writeValueAsString(Secrets.maskAll(event, exchange.getProperty("requestKey", String.class)));
    }
}

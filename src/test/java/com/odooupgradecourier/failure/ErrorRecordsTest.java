package com.odooupgradecourier.failure;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.odooupgradecourier.platform.PlatformFailureException;
import com.odooupgradecourier.support.Secrets;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

/** Error records: built as objects and masked value by value, and advice that matches the cause. */
class ErrorRecordsTest {
    private final DefaultCamelContext camel = new DefaultCamelContext();

    @Test
    void aKeyInsideAFailureIsMaskedAndTheRecordStaysValidJson() throws Exception {
        Map<String, Object> failure = new LinkedHashMap<>();
        failure.put("reason", "TARGET:INVALID");
        failure.put("message", "Invalid value \"17.0&key=Aw7pItGVKFuZ\"");
        failure.put("value", "{\"key\": \"Aw7pItGVKFuZ\", \"request\": 10534}");
        Exchange ex = new DefaultExchange(camel);
        ex.setProperty(Exchange.EXCEPTION_CAUGHT, new PlatformFailureException("create", List.of(failure)));
        ex.setProperty("requestKey", "Aw7pItGVKFuZ");
        ex.setProperty("fileName", "x.sql");
        String record = new ErrorRecords().build(ex);
        JsonNode r = new ObjectMapper().readTree(record);
        assertThat(record).doesNotContain("Aw7pItGVKFuZ");
        assertThat(r.at("/failures/0/message").asText()).isEqualTo("Invalid value \"17.0&key=***\"");
        assertThat(r.at("/failures/0/value").asText()).isEqualTo("{\"key\": \"***\", \"request\": 10534}");
    }

    @Test
    void aKeyWithASlashIsMaskedWholeInThePlatformsUrls() {
        String url = "http://127.0.0.1:18090/database/eu1/777/Xy9/SECRETKEYq+w==/upgraded/archive";
        assertThat(Secrets.maskUrl(url)).isEqualTo("http://127.0.0.1:18090/database/eu1/777/***/upgraded/archive");
        assertThat(Secrets.maskUrl("see /database/eu1/777/plainKEY== here")).isEqualTo("see /database/eu1/777/*** here");
    }

    @Test
    void aFullDiskIsNotCalledAnSftpServerThatRefused() {
        Exchange ex = new DefaultExchange(camel);
        ex.setProperty(Exchange.EXCEPTION_CAUGHT, new org.apache.camel.component.file.GenericFileOperationFailedException(
                "Cannot store file: /srv/out/.incoming-x", new IOException("No space left on device")));
        String advice = new ErrorRecords().advice(ex);
        assertThat(advice).contains("disk is full").doesNotContain("SFTP");
    }
}

package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A setting that cannot work stops the start in one line: the key, its environment variable, the value, what is allowed. */
class SettingsTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "upgrade.poll-interval|abc|upgrade.poll-interval (UPGRADE_POLL_INTERVAL) is 'abc': a whole number of seconds from 1 to 86400",
        "upgrade.retry.attempts|-3|upgrade.retry.attempts (UPGRADE_RETRY_ATTEMPTS) is '-3': a whole number of retries from 0 to 100",
        "courier.settle-time|-1|courier.settle-time (COURIER_SETTLE_TIME) is '-1': a whole number of milliseconds from 0 to",
        "courier.lease-time|0|courier.lease-time (COURIER_LEASE_TIME) is '0': a whole number of seconds from 2 to 86400",
        "courier.output-uri|bogus:xyz|courier.output-uri (COURIER_OUTPUT_URI) is 'bogus:xyz': a folder or a file server archives are",
        "courier.output-uri|log:x|courier.output-uri (COURIER_OUTPUT_URI) is 'log:x': a folder or a file server archives are delivered to",
        "courier.output-uri|file:DROP|is 'file:DROP': a folder apart from courier.drop-dir (DROP): every archive delivered there would be taken",
        "courier.output-uri|file:DROP/sub|a folder apart from courier.drop-dir",
        "courier.output-uri|file:DATA|a folder apart from courier.data-dir",
        "upgrade.aim|prod|upgrade.aim (UPGRADE_AIM) is 'prod': one of test, production",
        "courier.ignore-pattern|([|courier.ignore-pattern (COURIER_IGNORE_PATTERN) is '([': a regular expression",
        "upgrade.api-url|ftp://x/y|upgrade.api-url (UPGRADE_API_URL) is 'ftp://x/y': the platform's address, http:// or https:// with a host",
        "upgrade.api-url|http://|upgrade.api-url (UPGRADE_API_URL) is 'http://': the platform's address",
        "upgrade.transfer|ftp|upgrade.transfer (UPGRADE_TRANSFER) is 'ftp': one of auto, https, sftp",
        "upgrade.sftp-threshold|big|upgrade.sftp-threshold (UPGRADE_SFTP_THRESHOLD) is 'big': a size such as 64MB",
        "courier.settle-timeout|100|courier.settle-timeout (COURIER_SETTLE_TIMEOUT) is '100': more than courier.settle-time (5000 ms)",
        "upgrade.api|v2|upgrade.api (UPGRADE_API) is 'v2': v1 (the seed's database/v1 API) or jsonrpc",
        "courier.failed-dir|DROP|courier.failed-dir (COURIER_FAILED_DIR) is 'DROP': a folder apart from courier.drop-dir (DROP): what the service writes there",
        "courier.failed-dir|DROP/failed|a folder apart from courier.drop-dir",
        "courier.data-dir|DROP/data|is 'DROP/data': a folder apart from courier.drop-dir",
        "courier.failed-dir|DATA/failed|a folder apart from courier.data-dir"})
    void aValueThatCannotWorkIsRefusedAtStartInOneLine(String key, String value, String said) {
        Map<String, String> overrides = new LinkedHashMap<>();
        overrides.put("courier.drop-dir", tmp.resolve("drop").toString());
        overrides.put("courier.data-dir", tmp.resolve("data").toString());
        overrides.put("courier.failed-dir", tmp.resolve("failed").toString());
        overrides.put("courier.output-uri", "file:" + tmp.resolve("out"));
        overrides.put("upgrade.contract", "M1");
        overrides.put("upgrade.email", "a@example.com");
        overrides.put(key, value.replace("DROP", tmp.resolve("drop").toString()).replace("DATA", tmp.resolve("data").toString()));
        CourierMain courier = new CourierMain(false, overrides);
        Throwable refused = catchThrowable(courier::start);
        try {
            courier.stop();
        } catch (Exception ignored) {
            // it did not start
        }
        assertThat(refused).isNotNull();
        Throwable cause = refused;
        while (cause.getCause() != null && !(cause instanceof IllegalStateException)) {
            cause = cause.getCause();
        }
        assertThat(cause.getMessage()).contains(said.replace("DROP", tmp.resolve("drop").toString()).replace("DATA", tmp.resolve("data").toString()))
                .doesNotContain("\n")
                .doesNotContain("For input string");
        assertThat(tmp.resolve("data/courier.db")).as("refused before the store was opened").doesNotExist();
        assertThat(tmp.resolve("drop/data/courier.db")).as("refused before the store was opened").doesNotExist();
    }
}

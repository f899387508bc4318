package com.odooupgradecourier.simulator;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Settings of the built-in Upgrade platform simulator, read from the {@code simulator.*} keys.
 */
public final class SimulatorConfig {

    /** The contract the demo uses; always known to the simulator. */
    public static final String DEMO_CONTRACT = "M-DEMO-COURIER";

    String bindHost = "127.0.0.1";
    int httpPort = 8070;
    int sftpPort = 2222;
    /** The ports the simulator names in its answers (URLs, SFTP access), when clients reach it through a proxy; 0: its own. */
    int publicHttpPort;
    /** With upgrade.api=jsonrpc: also serve the API over https on this port (0: any free port; -1: not at all). */
    int httpsPort = -1;
    int publicSftpPort;
    Path storageDir = Path.of("data", "simulator");
    Set<String> contracts = new LinkedHashSet<>(Set.of(DEMO_CONTRACT));
    Set<String> failingContracts = new LinkedHashSet<>();
    /** The PostgreSQL version status names ({@code postgresql}, the uploaded database's, as the platform guesses it). */
    String postgresql = "15";
    Set<String> targets = new LinkedHashSet<>(Arrays.asList("12.0", "13.0", "14.0", "15.0", "16.0", "17.0", "18.0"));
    Duration pendingTime = Duration.ofSeconds(5);
    Duration processingTime = Duration.ofSeconds(10);
    double unavailableRate = 0.0;
    /**
     * How much an upgrade's processing time varies from request to request (0: not at all; 0.5: from half to one and a half
     * times {@code processingTime}), so rehearsals' history shows something.
     */
    double timingSpread = 0.0;
    String failureMessage = "The upgrade of your database failed: module 'legacy_report' has no equivalent in the target version. "
            + "Contact Odoo support with your request id.";

    public static SimulatorConfig defaults() {
        return new SimulatorConfig();
    }

    /** Reads every {@code simulator.*} key through {@code lookup}; a missing key keeps its default. */
    public static SimulatorConfig from(Function<String, String> lookup) {
        SimulatorConfig c = new SimulatorConfig();
        String v;
        if ((v = lookup.apply("simulator.bind-host")) != null) c.bindHost = v;
        if ((v = lookup.apply("simulator.http-port")) != null) c.httpPort = Integer.parseInt(v.trim());
        if ((v = lookup.apply("simulator.sftp-port")) != null) c.sftpPort = Integer.parseInt(v.trim());
        if ((v = lookup.apply("simulator.public-http-port")) != null && !v.isBlank()) c.publicHttpPort = Integer.parseInt(v.trim());
        if ((v = lookup.apply("simulator.public-sftp-port")) != null && !v.isBlank()) c.publicSftpPort = Integer.parseInt(v.trim());
        if ((v = lookup.apply("simulator.storage-dir")) != null) c.storageDir = Path.of(v);
        if ((v = lookup.apply("simulator.https-port")) != null && !v.isBlank()) c.httpsPort = Integer.parseInt(v.trim());
        if ((v = lookup.apply("simulator.contracts")) != null) c.contracts.addAll(list(v));
        if ((v = lookup.apply("simulator.failing-contracts")) != null) c.failingContracts = list(v);
        if ((v = lookup.apply("simulator.targets")) != null) c.targets = list(v);
        if ((v = lookup.apply("simulator.pending-time")) != null) c.pendingTime = seconds(v);
        if ((v = lookup.apply("simulator.processing-time")) != null) c.processingTime = seconds(v);
        if ((v = lookup.apply("simulator.unavailable-rate")) != null) c.unavailableRate = Double.parseDouble(v.trim());
        if ((v = lookup.apply("simulator.timing-spread")) != null && !v.isBlank()) c.timingSpread = Double.parseDouble(v.trim());
        c.contracts.addAll(c.failingContracts);
        return c;
    }

    private static Set<String> list(String v) {
        return Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .collect(Collectors.toCollection(LinkedHashSet::new));
    }

    private static Duration seconds(String v) {
        return Duration.ofMillis(Math.round(Double.parseDouble(v.trim()) * 1000));
    }

    public SimulatorConfig bindHost(String v) { bindHost = v; return this; }
    public SimulatorConfig httpPort(int v) { httpPort = v; return this; }
    public SimulatorConfig sftpPort(int v) { sftpPort = v; return this; }
    public SimulatorConfig storageDir(Path v) { storageDir = v; return this; }
    public SimulatorConfig httpsPort(int v) { httpsPort = v; return this; }
    public SimulatorConfig contract(String v) { contracts.add(v); return this; }
    public SimulatorConfig failingContract(String v) { failingContracts.add(v); contracts.add(v); return this; }
    public SimulatorConfig postgresql(String v) { postgresql = v; return this; }
    public SimulatorConfig timings(Duration pending, Duration processing) { pendingTime = pending; processingTime = processing; return this; }
    public SimulatorConfig unavailableRate(double v) { unavailableRate = v; return this; }
    public SimulatorConfig timingSpread(double v) { timingSpread = v; return this; }

    /** The processing time of request {@code id}: {@code processingTime}, spread by {@code timingSpread} (the same for one id). */
    Duration processingTime(long id) {
        double f = ((id * 2654435761L) & 0xffff) / 65535.0 * 2 - 1;
        return Duration.ofMillis(Math.max(0, Math.round(processingTime.toMillis() * (1 + timingSpread * f))));
    }

    /**
     * The simulator's upgrade report (notes) of request {@code id}: a heading, a section of custom views, and as many warnings
     * as the request's id gives (0 to 3), in the platform's {@code alert-warning} boxes.
     */
    static String report(long id, String target) {
        StringBuilder h = new StringBuilder("<html><body><h1>Upgrade notes for request " + id + "</h1><p>Your database was upgraded to "
                + target + ". Review the custom views listed below before going live.</p><h2>Upgrade report: custom views</h2>");
        for (int i = 1; i <= id % 4; i++) {
            h.append("<div class=\"alert alert-warning\">The view custom_view_").append(i).append(" was disabled: it does not apply to ")
                    .append(target).append(".</div>");
        }
        return h.append("</body></html>").toString();
    }
}

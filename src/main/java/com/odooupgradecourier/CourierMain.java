package com.odooupgradecourier;

import com.odooupgradecourier.service.Retry;
import com.odooupgradecourier.simulator.Demo;
import com.odooupgradecourier.simulator.JsonRpcSimulator;
import com.odooupgradecourier.simulator.UpgradePlatformSimulator;
import com.odooupgradecourier.store.Queue;
import com.odooupgradecourier.support.PathFunction;
import com.odooupgradecourier.support.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;
import org.apache.camel.CamelContext;
import org.apache.camel.cluster.CamelClusterService;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.Main;
import org.apache.camel.main.MainListenerSupport;
import org.apache.camel.spi.PropertiesComponent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts Odoo Upgrade Courier: the command line, then Camel Main with {@code application.properties} and
 * {@code routes/*.yaml} (and the chosen protocol's {@code routes/platform-<api>/}) from the working directory, the beans
 * of {@link CourierConfiguration}, and with {@code --simulator} the built-in simulator first.
 */
public final class CourierMain {
    private static final Logger LOG = LoggerFactory.getLogger(CourierMain.class);
    static final String USAGE = """
            Usage: java -jar odoo-upgrade-courier.jar [--simulator | --simulator-only] [--once] [--config DIR]
                                                      [--retry DUMP] [--help]

            Watches the drop folder (courier.drop-dir), sends each database dump through Odoo's Upgrade
            platform and delivers the upgraded archive to courier.output-uri.

              --simulator   start the built-in Upgrade platform simulator and use it instead of
                            upgrade.odoo.com (a complete demo on one machine)
              --simulator-only
                            run only the built-in simulator (simulator.* settings), e.g. to try the
                            platform's API with curl and sftp, or to benchmark against it
              --once        handle what is in the drop folder (and resume what is in flight), wait until
                            each dump is delivered or failed, print a summary and exit: 0 when every
                            dump was delivered, 1 otherwise (for cron and CI scripts); the log goes to
                            standard error, the summary to standard output
              --config DIR  read application.properties and routes/ from DIR instead of the working
                            directory (relative folders in the settings stay relative to the working
                            directory)
              --retry DUMP  take a failed dump up again at the step it failed at (its file name or id, as
                            the status page shows it), with its platform request when it has one; a running
                            service goes on with it at once, a stopped one when it starts
              --help        print this help

            Settings are read from application.properties; every key can be overridden by an environment
            variable (upgrade.contract -> UPGRADE_CONTRACT).
            """;

    private final Main main = new Main();
    private volatile Demo demo;

    public CourierMain(boolean simulator, Map<String, String> overrides) {
        this(simulator, null, overrides);
    }

    /** @param configDir where application.properties and routes/ are; null: the working directory */
    public CourierMain(boolean simulator, Path configDir, Map<String, String> overrides) {
        String prefix = configDir == null ? "" : configDir + "/";
        main.setDefaultPropertyPlaceholderLocation("file:" + prefix + "application.properties");
        if (configDir != null) {
            main.addOverrideProperty("camel.main.routes-include-pattern",
                    "file:" + prefix + "routes/*.yaml,file:" + prefix + "routes/platform-{{upgrade.api}}/*.yaml");
        }
        overrides.forEach(main::addOverrideProperty);
        main.configure().addConfiguration(CourierConfiguration.class);
        main.addMainListener(new Lifecycle(simulator, d -> demo = d));
    }

    /** What the command line asks for. */
    private record Command(boolean simulator, boolean simulatorOnly, boolean once, Path config, String retry) {
    }

    public static void main(String[] args) throws Exception {
        Command command = parse(args);
        if (command == null) {
            System.out.print(USAGE);
            return;
        }
        Path settings = (command.config() == null ? Path.of("") : command.config()).toAbsolutePath().resolve("application.properties");
        if (!Files.isRegularFile(settings)) {
            System.err.println("No application.properties in " + settings.getParent() + ": run the courier from the folder that holds "
                    + "application.properties and routes/, or name that folder with --config DIR.");
            System.exit(2);
        }
        if (command.simulatorOnly()) {
            Demo.runAlone(settings(settings));
            return;
        }
        if (command.retry() != null) {
            System.exit(Retry.fromCommandLine(settings(settings), command.retry()));
        }
        System.exit(run(command));
    }

    /** The command line read; null for --help. A wrong one ends the program with its usage (exit code 2). */
    private static Command parse(String[] args) {
        boolean sim = false;
        boolean simOnly = false;
        boolean once = false;
        Path config = null;
        String retry = null;
        List<String> unknown = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--simulator" -> sim = true;
                case "--simulator-only" -> simOnly = true;
                case "--once" -> once = true;
                case "--config" -> config = i + 1 < args.length ? Path.of(args[++i]) : null;
                case "--retry" -> {
                    if (i + 1 >= args.length || args[i + 1].startsWith("--") || args[i + 1].isBlank()) {
                        usage("--retry needs the dump to take up again: its file name or id, as the status page shows it "
                                + "(java -jar odoo-upgrade-courier.jar --retry DUMP)");
                    }
                    retry = args[++i];
                }
                case "--help", "-h" -> {
                    return null;
                }
                default -> unknown.add(args[i]);
            }
        }
        if (!unknown.isEmpty()) {
            usage("Unknown argument(s): " + String.join(" ", unknown));
        }
        return new Command(sim, simOnly, once, config, retry);
    }

    /** The service, until it is stopped (or, with --once, until nothing is due); its exit code. */
    private static int run(Command command) {
        if (command.once()) {
            // the summary goes to standard output, the log to standard error
            System.setProperty("courier.log.target", "SYSTEM_ERR");
            ((org.apache.logging.log4j.core.LoggerContext) org.apache.logging.log4j.LogManager.getContext(false)).reconfigure();
        }
        CourierMain courier = new CourierMain(command.simulator(), command.config(), Map.of());
        try {
            if (command.once()) {
                courier.start();
                int code = new Once(courier.context()).run(System.out);
                courier.stop();
                return code;
            }
            courier.main.run();
            return courier.main.getExitCode();
        } catch (Exception e) {
            Throwable cause = e;
            while (cause.getCause() != null && !(cause instanceof IllegalStateException)) {
                cause = cause.getCause();
            }
            System.err.println(cause.getMessage());
            return 1;
        }
    }

    private static void usage(String problem) {
        System.err.println(problem + "\n\n" + USAGE);
        System.exit(2);
    }

    /** Starts without blocking (tests); {@link #stop()} ends it. */
    public CourierMain start() throws Exception {
        main.start();
        return this;
    }

    public void stop() throws Exception {
        main.stop();
    }

    public CamelContext context() {
        return main.getCamelContext();
    }

    /** The v1 simulator started with --simulator, or null. */
    public UpgradePlatformSimulator simulator() {
        return demo == null ? null : demo.v1();
    }

    /** The JSON-RPC simulator started with --simulator and upgrade.api = jsonrpc, or null. */
    public JsonRpcSimulator rpcSimulator() {
        return demo == null ? null : demo.jsonRpc();
    }

    /**
     * The settings outside Camel (the simulator alone, --retry): application.properties, each key overridden by its
     * environment variable; blank values are absent.
     */
    static Function<String, String> settings(Path file) throws IOException {
        Properties props = new Properties();
        try (var in = Files.newBufferedReader(file)) {
            props.load(in);
        }
        return key -> {
            String env = System.getenv(Settings.envName(key));
            String value = env != null ? env : props.getProperty(key);
            return value == null || value.isBlank() ? null : value.trim();
        };
    }
}

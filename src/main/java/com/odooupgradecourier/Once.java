package com.odooupgradecourier;

import com.odooupgradecourier.store.Rows;
import com.odooupgradecourier.store.Step;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.PropertiesComponent;

/**
 * {@code --once}, for cron and CI scripts: waits until the drop folder holds nothing to take and every dump of this run
 * (those in flight at start, those taken since) is delivered or failed (a dump that keeps waiting fails at the end of its
 * lifetime, upgrade.timeout); prints a summary; 0 when all were delivered (and restored, when restores are configured).
 * A file left in the drop folder well past the settle timeout is reported as not taken instead of being waited for.
 */
final class Once {
    private final Rows rows;
    private final Path drop;
    private final Pattern ignored;
    private final long notTakenAfter;
    private final String failedDir;

    Once(CamelContext context) {
        PropertiesComponent pc = context.getPropertiesComponent();
        rows = context.getRegistry().lookupByNameAndType("rows", Rows.class);
        drop = Path.of(pc.resolveProperty("courier.drop-dir").orElse("drop"));
        ignored = Pattern.compile(pc.resolveProperty("courier.ignore-pattern").orElse("^\\..*$"));
        notTakenAfter = Long.parseLong(pc.resolveProperty("courier.settle-timeout").orElse("30000").trim())
                + Long.parseLong(pc.resolveProperty("courier.settle-time").orElse("5000").trim()) + 10_000;
        failedDir = pc.resolveProperty("courier.failed-dir").orElse("failed");
    }

    /** Runs until this run's dumps are finished; prints the summary on {@code out}; the exit code. */
    int run(PrintStream out) throws Exception {
        Set<String> before = new HashSet<>();
        Set<String> ours = new HashSet<>();
        for (Map<String, Object> r : rows.all()) {
            before.add((String) r.get("id"));
            if (!Step.of((String) r.get("step")).isFinal()) {
                ours.add((String) r.get("id"));
            }
        }
        Map<Path, Long> seen = new HashMap<>();
        Set<Path> notTaken = new TreeSet<>();
        List<Map<String, Object>> mine = List.of();
        for (int quiet = 0; quiet < 3; ) {
            TimeUnit.SECONDS.sleep(1);
            long now = System.currentTimeMillis();
            Set<Path> waiting = waiting();
            seen.keySet().retainAll(waiting);
            waiting.forEach(f -> seen.putIfAbsent(f, now));
            notTaken.retainAll(waiting);
            seen.forEach((f, since) -> {
                if (now - since > notTakenAfter) {
                    notTaken.add(f);
                }
            });
            mine = new ArrayList<>();
            for (Map<String, Object> r : rows.all()) {
                if (ours.contains(r.get("id")) || !before.contains(r.get("id"))) {
                    mine.add(r);
                }
            }
            boolean finished = mine.stream().allMatch(r -> Step.of((String) r.get("step")).isFinal());
            quiet = waiting.size() == notTaken.size() && finished ? quiet + 1 : 0;
        }
        return summary(out, mine, notTaken);
    }

    private Set<Path> waiting() throws IOException {
        Set<Path> waiting = new HashSet<>();
        try (Stream<Path> files = Files.list(drop)) {
            files.filter(Files::isRegularFile).filter(f -> !ignored.matcher(f.getFileName().toString()).matches()).forEach(waiting::add);
        } catch (NoSuchFileException e) {
            // nothing to take
        }
        return waiting;
    }

    private int summary(PrintStream out, List<Map<String, Object>> mine, Set<Path> notTaken) {
        long delivered = mine.stream().filter(r -> "delivered".equals(r.get("step"))).count();
        out.println();
        out.println("Odoo Upgrade Courier --once: " + mine.size() + " dump(s), " + delivered + " delivered, "
                + (mine.size() - delivered) + " failed" + (notTaken.isEmpty() ? "" : ", " + notTaken.size() + " file(s) not taken"));
        for (Map<String, Object> r : mine) {
            Object name = r.get("file_name");
            out.println("delivered".equals(r.get("step"))
                    ? "  delivered  " + name + " -> " + r.get("delivered_to") + " (request " + r.get("request_id") + ")"
                    : "restore-failed".equals(r.get("step"))
                    ? "  RESTORE FAILED " + name + " -> " + r.get("delivered_to") + " (request " + r.get("request_id")
                    + "), delivered, not restored: " + r.get("last_error")
                    : "  FAILED     " + name + ": " + r.get("last_error") + " (the dump and its error record are in " + failedDir + ")");
        }
        for (Path f : notTaken) {
            out.println("  NOT TAKEN  " + f.getFileName() + ": still in the drop folder after " + notTakenAfter / 1000
                    + " s; see the log for why");
        }
        return delivered == mine.size() && notTaken.isEmpty() ? 0 : 1;
    }
}

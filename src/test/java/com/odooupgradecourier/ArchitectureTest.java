package com.odooupgradecourier;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The shape of the code, checked on its sources: the packages form a line (each uses only those below it; support, at
 * the bottom, uses nothing of ours; the simulator stands apart and is used by nothing but the command line), and no class
 * outside the simulator grows beyond one concept.
 */
class ArchitectureTest {
    /** Bottom to top. */
    private static final List<String> LINE = List.of("support", "store", "dump", "platform", "transfer", "restore", "failure", "rehearsal", "service",
            "(root)");
    private static final Path MAIN = Path.of("src/main/java/com/odooupgradecourier");
    private static final Pattern USE = Pattern.compile("com\\.odooupgradecourier\\.(\\w+)\\.[A-Z]");

    @Test
    void thePackagesFormALineAndTheSimulatorStandsApart() throws Exception {
        List<String> wrong = new ArrayList<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String pkg = MAIN.relativize(f.getParent()).toString();
                pkg = pkg.isEmpty() ? "(root)" : pkg;
                Matcher m = USE.matcher(Files.readString(f));
                while (m.find()) {
                    String used = m.group(1);
                    if (used.equals(pkg)) {
                        continue;
                    }
                    boolean allowed = pkg.equals("simulator") ? used.equals("support")
                            : used.equals("simulator") ? pkg.equals("(root)")
                            : LINE.indexOf(used) >= 0 && LINE.indexOf(used) < LINE.indexOf(pkg);
                    if (!allowed) {
                        wrong.add(f.getFileName() + " (" + pkg + ") uses " + used);
                    }
                }
            }
        }
        assertThat(wrong).as("uses against the line " + LINE).isEmpty();
    }

    @Test
    void noClassOutsideTheSimulatorHoldsMoreThanOneConcept() throws Exception {
        List<String> big = new ArrayList<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java") && !p.toString().contains("/simulator/")).toList()) {
                long lines = Files.readAllLines(f).size();
                if (lines > 500) {
                    big.add(f.getFileName() + " (" + lines + " lines)");
                }
            }
        }
        assertThat(big).as("classes over 500 lines").isEmpty();
    }
}

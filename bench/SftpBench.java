import com.odooupgradecourier.transfer.ParallelSftp;
import com.odooupgradecourier.transfer.Ranges;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The courier's own SFTP client (ParallelSftp: one SSH session, SFTP channels added while they help, pieces at their
 * offsets) moving one file up and then down, with each maximum channel count, to and from any SFTP server; timed as
 * OpenSSH's sftp is by the script: from the connection's start (the SSH handshake included) to the last acknowledgement
 * or the last byte. Run with the courier's jar on the class path (bench/sshd.sh does):
 *
 * <pre>java -cp target/odoo-upgrade-courier.jar bench/SftpBench.java PORT WARM_PORT USER KEY KNOWN_HOSTS LOCAL REMOTE CHANNELS...</pre>
 *
 * Before anything is timed the JVM moves 512 MiB up and down through {@code WARM_PORT} (the same server without the
 * delay), as a running service has moved data before: a JVM compiles its hot code only after some hundreds of MiB,
 * and until then moves a third less. Prints one line per transfer: {@code <up|down> <channels> <seconds> <MiB/s>}.
 */
public final class SftpBench {
    public static void main(String[] a) throws Exception {
        int port = Integer.parseInt(a[0]);
        int warmPort = Integer.parseInt(a[1]);
        Path local = Path.of(a[5]);
        String remote = a[6];
        Path got = Path.of(a[5] + ".got");
        Path warmFile = Files.createTempFile("sftp-bench", ".warm");
        try {
            try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(warmFile.toFile(), "rw")) {
                f.setLength(512L << 20);
            }
            move(a, warmPort, true, warmFile, remote + ".warm", 8);
            move(a, warmPort, false, warmFile, remote + ".warm", 8);
        } finally {
            Files.delete(warmFile);
        }
        for (int i = 7; i < a.length; i++) {
            int channels = Integer.parseInt(a[i]);
            report("up", channels, Files.size(local), move(a, port, true, local, remote, channels));
            report("down", channels, Files.size(local), move(a, port, false, got, remote, channels));
            if (Files.mismatch(local, got) != -1) {
                throw new IllegalStateException(got + " differs from " + local);
            }
            Files.delete(got);
        }
    }

    /** Moves {@code local} up to (or down from) {@code remote}; answers the seconds it took. */
    private static double move(String[] a, int port, boolean up, Path local, String remote, int channels) throws Exception {
        long t0 = System.nanoTime();
        try (ParallelSftp sftp = ParallelSftp.connect("127.0.0.1", port, a[2], Path.of(a[3]), Path.of(a[4]), Duration.ofSeconds(60))) {
            if (up) {
                long size = Files.size(local);
                sftp.upload(local, remote, true, pieces(size, channels), channels, n -> { }, (s, e) -> { });
            } else {
                Files.deleteIfExists(local);
                sftp.download(remote, local, pieces(sftp.size(remote), channels), channels, n -> { }, (s, e) -> { });
            }
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    private static void report(String direction, int channels, long size, double seconds) {
        System.out.printf(java.util.Locale.ROOT, "%s %d %.3f %.2f%n", direction, channels, seconds, size / 1048576.0 / seconds);
    }

    /** The pieces the service cuts a file of {@code size} bytes into. */
    private static List<long[]> pieces(long size, int channels) {
        List<long[]> pieces = new ArrayList<>();
        long block = Ranges.blockSize(size, channels);
        for (long s = 0; s < size; s += block) {
            pieces.add(new long[] {s, Math.min(size, s + block)});
        }
        return pieces;
    }
}

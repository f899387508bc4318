import com.odooupgradecourier.transfer.ParallelSftp;
import com.odooupgradecourier.transfer.Ranges;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The courier's own SFTP client (ParallelSftp: one SSH session, several SFTP channels, pieces at their offsets) moving one
 * file to or from any SFTP server, timed as OpenSSH's sftp is by the script: from the connection's start (the SSH handshake
 * included; the JVM's start and a first warm-up connection not, as in the running service) to the last acknowledgement. Run with the courier's jar on the
 * class path (bench/sshd.sh does):
 *
 * <pre>java -cp target/odoo-upgrade-courier.jar bench/SftpBench.java up|down PORT USER KEY KNOWN_HOSTS LOCAL REMOTE CHANNELS</pre>
 *
 * Prints one line: {@code <direction> <channels> <seconds> <MiB/s>}.
 */
public final class SftpBench {
    public static void main(String[] a) throws Exception {
        boolean up = a[0].equals("up");
        int port = Integer.parseInt(a[1]);
        Path local = Path.of(a[5]);
        String remote = a[6];
        int channels = Integer.parseInt(a[7]);
        // a first connection loads and warms up the client's classes and crypto, as in the running service: not timed
        try (ParallelSftp warm = ParallelSftp.connect("127.0.0.1", port, a[2], Path.of(a[3]), Path.of(a[4]), Duration.ofSeconds(60))) {
            warm.truncate(remote + ".warm");
        }
        long t0 = System.nanoTime();
        try (ParallelSftp sftp = ParallelSftp.connect("127.0.0.1", port, a[2], Path.of(a[3]), Path.of(a[4]), Duration.ofSeconds(60))) {
            long size = up ? Files.size(local) : sftp.size(remote);
            List<long[]> pieces = new ArrayList<>();
            long block = Ranges.blockSize(size, channels);
            for (long s = 0; s < size; s += block) {
                pieces.add(new long[] {s, Math.min(size, s + block)});
            }
            if (up) {
                sftp.truncate(remote);
            } else {
                Files.deleteIfExists(local);
            }
            if (up) {
                sftp.upload(local, remote, pieces, channels, n -> { }, (s, e) -> { });
            } else {
                sftp.download(remote, local, pieces, channels, n -> { }, (s, e) -> { });
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf(java.util.Locale.ROOT, "%s %d %.3f %.2f%n", a[0], channels, seconds, size / 1048576.0 / seconds);
        }
    }
}

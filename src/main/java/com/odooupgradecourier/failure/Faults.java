package com.odooupgradecourier.failure;

import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.SftpException;
import com.odooupgradecourier.dump.BadDumpException;
import com.odooupgradecourier.store.DuplicateDumpException;
import com.odooupgradecourier.support.FileChangedException;
import com.odooupgradecourier.support.NotEnoughSpaceException;
import com.odooupgradecourier.platform.PlatformFailureException;
import com.odooupgradecourier.platform.TransientPlatformException;
import com.odooupgradecourier.platform.UnexpectedAnswerException;
import com.odooupgradecourier.platform.UpgradeFailedException;
import com.odooupgradecourier.platform.UpgradeTimeoutException;
import com.odooupgradecourier.store.StoreUnavailableException;
import com.odooupgradecourier.transfer.Downloads;
import com.odooupgradecourier.transfer.OutputUnavailableException;
import com.odooupgradecourier.transfer.RefusedException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.Locale;
import java.util.Map;

/**
 * The one classification of failures: what may pass if the step is tried again later, and what a person can do
 * about each. May pass: the platform's HTTP 5xx, no answer, an HTML page instead of the API's JSON,
 * {@code SERVER:ERROR}; a dropped or refused connection; an SFTP session that cannot start; a full disk; an output
 * that is unavailable; the store out of reach. Final: any other answer of the platform, a bad or changed file, refused
 * authentication or host key, a file the service may not read or that is gone, and anything not known to pass.
 */
public class Faults {
    private static final String RETRY = "then retry the dump (Retry on the status page, or --retry with its name).";

    /** Throws again what a route's doCatch caught (kept in a property while it did what it had to), for the step's error handling. */
    public void rethrow(Exception caught) throws Exception {
        if (caught != null) {
            throw caught;
        }
    }

    /** Whether {@code error} may pass when the step is tried again. */
    public boolean mayPass(Throwable error) {
        return classify(error, false).mayPass();
    }

    /** Whether {@code error} is the store out of reach (its server down, its file gone): work waits until it is back. */
    public boolean storeUnavailable(Throwable error) {
        return cause(error, StoreUnavailableException.class) != null || storeConnectionLost(error);
    }

    /** What a person can do about {@code error}; {@code hasRequest}: the platform's request exists. */
    public String advice(Throwable error, boolean hasRequest) {
        return classify(error, hasRequest).whatToDo();
    }

    /** What {@code error} means: may it pass, its kind, what to do. */
    public static Fault classify(Throwable error, boolean hasRequest) {
        Fault fault = error == null ? null
                : firstOf(ownFault(error), platformFault(error, hasRequest), connectionFault(error), fileFault(error));
        return fault != null ? fault : new Fault(false, "unknown", hasRequest ? "Follow the request on the platform with its id; drop "
                + "the dump again once the cause is fixed." : "Drop the dump again once the cause is fixed.");
    }

    private static Fault firstOf(Fault... faults) {
        for (Fault f : faults) {
            if (f != null) {
                return f;
            }
        }
        return null;
    }

    /** The courier's own findings: the store, the dump itself. */
    private static Fault ownFault(Throwable error) {
        if (cause(error, StoreUnavailableException.class) != null || storeConnectionLost(error)) {
            return new Fault(true, "store-unavailable", "The store (courier.store.url) could not be reached: the dump goes on "
                    + "where it was once the store is back; check the database server.");
        }
        if (error instanceof com.odooupgradecourier.dump.CustodyLostException) {
            return new Fault(false, "custody-lost", "Nothing is done again for it: look for its upgraded archive in the output (it was "
                    + "likely delivered after the store's copy was made) and for it in the failed folder; only if it is in neither, "
                    + "drop the dump again.");
        }
        if (error instanceof DuplicateDumpException) {
            return new Fault(false, "duplicate", "Nothing to do: the dump already in flight will be delivered. This copy was set "
                    + "aside here.");
        }
        if (cause(error, FileChangedException.class) != null) {
            return new Fault(false, "file-changed", "The file changed while it was being taken — copy it again: drop the complete "
                    + "dump once more (best copied under a temporary name such as <name>.part and renamed when complete). "
                    + "Nothing of this copy is delivered.");
        }
        if (error instanceof BadDumpException) {
            return new Fault(false, "bad-dump", "Fix or replace the file, then drop it into the drop folder again.");
        }
        return null;
    }

    /** What the platform answered, or did not. */
    private static Fault platformFault(Throwable error, boolean hasRequest) {
        if (error instanceof UpgradeTimeoutException) {
            return new Fault(false, "lifetime-over", hasRequest
                    ? "Follow the request on the platform (status_url, with your request key) or ask Odoo support with the request id."
                    : "The platform could not be reached for upgrade.timeout; drop the dump again once it is back.");
        }
        if (error instanceof UnexpectedAnswerException) {
            return new Fault(false, "unexpected-answer", "The platform answered in a way the service does not know; it may have "
                    + "created a request. Drop the dump again to upgrade it, and tell the service's maintainers what the answer was.");
        }
        if (error instanceof Downloads.UnsafeUrlException) {
            return new Fault(false, "unsafe-url", "Check the download host named above; if the platform really serves archives "
                    + "from there, add it to upgrade.download-hosts, " + RETRY);
        }
        if (error instanceof PlatformFailureException p) {
            return platformRefused(p);
        }
        if (error instanceof UpgradeFailedException) {
            return new Fault(false, "upgrade-failed", "The platform could not upgrade this database: read customer_message and the "
                    + "request's status page, contact Odoo support with the request id if needed.");
        }
        if (error instanceof TransientPlatformException) {
            return new Fault(true, "platform-unavailable", "The platform kept failing after every retry; it may be down. Drop the "
                    + "dump again later.");
        }
        return null;
    }

    /** A server that refused a key, a host key or a transfer. */
    private static Fault connectionFault(Throwable error) {
        RefusedException refused = cause(error, RefusedException.class);
        if (refused != null) {
            return switch (refused.reason()) {
                case HOST_KEY -> new Fault(false, "host-key", "The server's host key is not the one trusted: it changed, or someone "
                        + "is between you and the server. Ask the platform (Odoo support) whether its keys changed; only then trust the "
                        + "new key (upgrade.sftp.known-hosts or upgrade.rsync.known-hosts, or remove its line from the data folder's "
                        + "known_hosts), " + RETRY);
                case KEY -> new Fault(false, "key-refused", "The server refused the request's own key: the request's access may have "
                        + "ended on the platform. Retry the dump once; if it is refused again, drop it again for a new request.");
                case TRANSFER -> new Fault(false, "transfer-refused", "The transfer program gave up for a reason that does not pass "
                        + "(see the error): fix it, " + RETRY);
            };
        }
        JSchException jsch = cause(error, JSchException.class);
        if (jsch != null) {
            String m = String.valueOf(jsch.getMessage()).toLowerCase(Locale.ROOT);
            if (m.contains("hostkey") || m.contains("host key")) {
                return new Fault(false, "host-key", "The output's SFTP server showed a host key that is not the one in its known_hosts "
                        + "file: it changed, or someone is between you and it. Check with its administrator before trusting the new key, "
                        + RETRY);
            }
            if (m.contains("auth")) {
                return new Fault(false, "key-refused", "The output's SFTP server refused the user's key or password: check the user "
                        + "and privateKeyFile in courier.output-uri, " + RETRY);
            }
        }
        return null;
    }

    /** Files, folders, disks and outputs. */
    private static Fault fileFault(Throwable error) {
        if (permissionDenied(error)) {
            return new Fault(false, "permission-denied", "A server refused to write or read a file (permission denied): give the "
                    + "service's user the right there, " + RETRY);
        }
        if (cause(error, AccessDeniedException.class) != null) {
            return new Fault(false, "access-denied", "The service's user may not read or write a file or folder named above: give it "
                    + "(or its group) access, " + RETRY);
        }
        if (cause(error, NoSuchFileException.class) != null) {
            return new Fault(false, "file-missing", "A file the service needs is gone (see the error): drop the dump again.");
        }
        if (nameTooLong(error) || messageStarts(error, "file already exist")) {
            return new Fault(false, "file-name", "A file could not get its name (see the error): " + RETRY);
        }
        if (cause(error, NotEnoughSpaceException.class) != null) {
            return new Fault(true, "disk-full", "A folder is short of free space for what comes next (see the error): free some "
                    + "space there; the dump waits and goes on by itself.");
        }
        if (cause(error, com.odooupgradecourier.restore.RestoreUnavailableException.class) != null) {
            return new Fault(true, "restore-server-unavailable", "The PostgreSQL server of the restores could not be reached: the "
                    + "restore is taken up again once it is back (what it had made is dropped first).");
        }
        if (String.valueOf(ErrorRecords.describe(error)).contains("No space left on device")) {
            return new Fault(true, "disk-full", "A disk is full (the data folder, the output or the failed folder): free some space; "
                    + "the dump is kept where dump_now_at says, retry it then.");
        }
        if (cause(error, OutputUnavailableException.class) != null) {
            return new Fault(true, "output-unavailable", "The output (courier.output-uri) cannot be written now (see the error): "
                    + "the dump waits and is delivered once it can; fix the output.");
        }
        if (transferFault(error)) {
            return new Fault(true, "io", "A file could not be read or written, or a connection broke (see the error): fix the cause, "
                    + RETRY);
        }
        return null;
    }

    private static Fault platformRefused(PlatformFailureException p) {
        boolean contract = p.getFailures().stream().anyMatch(f -> String.valueOf(f.get("reason")).startsWith("CONTRACT"));
        boolean target = p.getFailures().stream().anyMatch(f -> String.valueOf(f.get("reason")).startsWith("TARGET"));
        if (contract) {
            return new Fault(false, "contract", "Correct the contract reference (upgrade.contract, or the dump's own settings file "
                    + "beside it here), " + RETRY);
        }
        if (target) {
            return new Fault(false, "target", "Choose a target version from 'expected' (upgrade.target, or the dump's own settings "
                    + "file beside it here), " + RETRY);
        }
        if (p.getFailures().stream().map(Map::values).anyMatch(v -> v.contains("REQUEST:NOT_FOUND"))) {
            return new Fault(false, "request-gone", "The platform no longer knows this request (its id or key): it was removed, or "
                    + "expired. Drop the dump again for a new request.");
        }
        return new Fault(false, "platform-refused", "Read the platform's failures above, correct the settings they name, then drop "
                + "the dump again.");
    }

    /** A connection to the store that broke while it was used (PostgreSQL's connection errors, its server shutting down). */
    private static boolean storeConnectionLost(Throwable error) {
        for (Throwable t = error; t != null; t = next(t)) {
            if (t instanceof java.sql.SQLException s) {
                String state = String.valueOf(s.getSQLState());
                if (state.startsWith("08") || state.startsWith("57P") || s instanceof java.sql.SQLTransientConnectionException
                        || s instanceof java.sql.SQLNonTransientConnectionException) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean permissionDenied(Throwable error) {
        for (Throwable t = error; t != null; t = next(t)) {
            if (t instanceof SftpException s && s.id == ChannelSftp.SSH_FX_PERMISSION_DENIED
                    || t instanceof org.apache.sshd.sftp.common.SftpException s2
                    && s2.getStatus() == org.apache.sshd.sftp.common.SftpConstants.SSH_FX_PERMISSION_DENIED) {
                return true;
            }
        }
        return false;
    }

    private static boolean nameTooLong(Throwable error) {
        FileSystemException f = cause(error, FileSystemException.class);
        return f != null && "File name too long".equals(f.getReason());
    }

    private static boolean messageStarts(Throwable error, String start) {
        for (Throwable t = error; t != null; t = next(t)) {
            if (String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT).startsWith(start)) {
                return true;
            }
        }
        return false;
    }

    /** An I/O fault on the way: a broken or refused connection, a file that could not be read or written. */
    private static boolean transferFault(Throwable error) {
        for (Throwable t = error; t != null; t = next(t)) {
            if (t instanceof IOException || t instanceof JSchException
                    || t instanceof org.apache.camel.component.file.GenericFileOperationFailedException || isSftpSubsystemMissing(t)) {
                return true;
            }
        }
        return false;
    }

    /**
     * camel-ftp fails with a {@link NullPointerException} when a session authenticates but its sftp channel
     * cannot be opened (the server's sftp subsystem is missing or overloaded): a transfer fault like a
     * dropped connection.
     */
    static boolean isSftpSubsystemMissing(Throwable t) {
        if (!(t instanceof NullPointerException)) {
            return false;
        }
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().startsWith("org.apache.camel.component.file.remote.")) {
                return true;
            }
        }
        return false;
    }

    /** The error itself or the first of its causes of the given type. */
    static <T extends Throwable> T cause(Throwable error, Class<T> type) {
        for (Throwable t = error; t != null; t = next(t)) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    private static Throwable next(Throwable t) {
        return t.getCause() == t ? null : t.getCause();
    }
}

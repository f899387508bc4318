package com.odooupgradecourier.support;

import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.SftpException;
import com.odooupgradecourier.platform.TransientPlatformException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.Locale;

/**
 * Which faults may pass if the step is tried again later, and which are final. May pass: the platform's
 * HTTP 5xx, no answer, an HTML page instead of the API's JSON, {@code SERVER:ERROR}; a dropped or refused
 * connection; an SFTP session that cannot start; a full disk; an SFTP delivery target that is down.
 * Final: any other answer of the platform, a bad file, refused authentication or host key, a file the
 * service may not read or that is gone, and anything not known to pass.
 */
public class Faults {

    /** Throws again what a route's doCatch caught (kept in a property while it did what it had to), for the step's error handling. */
    public void rethrow(Exception caught) throws Exception {
        if (caught != null) {
            throw caught;
        }
    }

    /** Whether {@code error} may pass when the step is tried again. */
    public boolean mayPass(Throwable error) {
        boolean io = false;
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String m = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
            if (t instanceof TransientPlatformException) {
                return true;
            }
            // the platform's SFTP server refused the request's key, or showed a host key that is not the recorded one
            if (t instanceof com.odooupgradecourier.transfer.ParallelSftp.RefusedException) {
                return false;
            }
            if (t instanceof JSchException && (m.contains("auth") || m.contains("hostkey") || m.contains("host key"))) {
                return false;
            }
            if (t instanceof SftpException s && s.id == ChannelSftp.SSH_FX_PERMISSION_DENIED) {
                return false;
            }
            if (t instanceof org.apache.sshd.sftp.common.SftpException s
                    && s.getStatus() == org.apache.sshd.sftp.common.SftpConstants.SSH_FX_PERMISSION_DENIED) {
                return false;
            }
            if (t instanceof AccessDeniedException || t instanceof NoSuchFileException
                    || t instanceof FileSystemException f && "File name too long".equals(f.getReason())) {
                return false;
            }
            if (m.startsWith("file already exist")) {
                return false;
            }
            io |= t instanceof IOException || t instanceof JSchException
                    || t instanceof org.apache.camel.component.file.GenericFileOperationFailedException
                    || isSftpSubsystemMissing(t);
        }
        return io;
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
}

package com.odooupgradecourier.transfer;

import java.io.IOException;
import org.apache.sshd.sftp.client.SftpClient;
import org.apache.sshd.sftp.client.extensions.openssh.OpenSSHLimitsExtension;
import org.apache.sshd.sftp.client.extensions.openssh.OpenSSHLimitsExtensionInfo;
import org.apache.sshd.sftp.common.extensions.openssh.LimitsExtensionParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How long one SFTP read or write may be. Without word from the server, one SSH packet's worth (about 32 KiB, what every
 * server takes); a server that offers {@code limits@openssh.com} (OpenSSH's sftp-server: 255 KiB) is asked, and then a
 * request spans up to {@link #MOST_PACKETS} packets. Fewer, longer requests cost both ends less per byte: one answer,
 * one disk write and one wake-up of the waiting thread per request, not per packet.
 *
 * @param maxMessage the longest SFTP message the server takes (0: not said)
 * @param maxRead the longest read it answers (0: not said)
 * @param maxWrite the longest write it takes (0: not said)
 */
record SftpLimits(long maxMessage, long maxRead, long maxWrite) {
    private static final Logger LOG = LoggerFactory.getLogger(SftpLimits.class);
    /** Packets a request may span at most (8 packets of 32 KiB: 256 KiB, OpenSSH's own limit). */
    static final int MOST_PACKETS = 8;
    /** Nothing said: one packet per request. */
    static final SftpLimits UNKNOWN = new SftpLimits(0, 0, 0);

    /** What the server of {@code sftp} says (one round trip), or {@link #UNKNOWN} when it offers no such answer or fails to give one. */
    static SftpLimits of(SftpClient sftp) {
        if (!sftp.getServerExtensions().containsKey(LimitsExtensionParser.NAME)) {
            return UNKNOWN;
        }
        try {
            OpenSSHLimitsExtensionInfo l = sftp.getExtension(OpenSSHLimitsExtension.class).limits();
            return new SftpLimits(l.maxPacketLength, l.maxReadLength, l.maxWriteLength);
        } catch (IOException | RuntimeException e) {
            LOG.debug("the SFTP server offers limits@openssh.com but did not answer it ({}): one packet per request", e.toString());
            return UNKNOWN;
        }
    }

    /**
     * How many packets of {@code packet} bytes (the channel data the server takes per SSH packet) one write message may
     * fill: the message is {@code packets * packet - 5} bytes, {@code preamble} of them before the data. At least one.
     */
    int writePackets(long packet, int preamble) {
        int k = 1;
        while (k < MOST_PACKETS && fits(k + 1, packet, preamble, maxWrite)) {
            k++;
        }
        return k;
    }

    /**
     * How many bytes one read may ask for: an answer that fills one packet of {@code packet} bytes ({@code header} of them
     * before the data), or up to {@link #MOST_PACKETS} when the server says it answers reads that long.
     */
    int readLength(long packet, int header) {
        int k = 1;
        while (k < MOST_PACKETS && fits(k + 1, packet, header, maxRead)) {
            k++;
        }
        return (int) (k * packet - header);
    }

    private boolean fits(int packets, long packet, int header, long maxData) {
        long message = packets * packet - 5;
        return maxMessage > 0 && maxData > 0 && message <= maxMessage && message - header <= maxData;
    }
}

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
     * How many bytes of data one write may carry: its message ({@code preamble} bytes before the data) fills whole
     * packets of {@code packet} bytes (the channel data the server takes per SSH packet) but 5 bytes, as
     * {@link #length} says.
     */
    int writeLength(long packet, int preamble) {
        return length(packet, -5, preamble, maxWrite);
    }

    /** How many bytes one read may ask for: its answer ({@code header} bytes before the data) fills whole packets, as {@link #length} says. */
    int readLength(long packet, int header) {
        return length(packet, 0, header, maxRead);
    }

    /**
     * The data of a message of {@code k * packet + slack} bytes, {@code header} of them before the data, for the most
     * {@code k} (up to {@link #MOST_PACKETS}) the server's word allows ({@code maxData} for the data). Without word, one
     * packet's worth; with word that not even one packet's worth fits, what the server says it takes.
     */
    private int length(long packet, int slack, int header, long maxData) {
        int k = 0;
        while (k < MOST_PACKETS && fits(k + 1, packet, slack, header, maxData)) {
            k++;
        }
        long onePacket = packet + slack - header;
        return (int) (k > 0 ? k * packet + slack - header : said() ? Math.min(onePacket, Math.min(maxData, maxMessage - header)) : onePacket);
    }

    /** The server gave every length this needs (a server that says 0 for one of them has said nothing usable). */
    private boolean said() {
        return maxMessage > 0 && maxRead > 0 && maxWrite > 0;
    }

    /**
     * A message of {@code packets * packet + slack} bytes (its length field counted too: on the safe side), {@code header}
     * of them before the data, is within the server's word.
     */
    private boolean fits(int packets, long packet, int slack, int header, long maxData) {
        long message = packets * packet + slack;
        return said() && message <= maxMessage && message - header <= maxData;
    }
}

package com.odooupgradecourier.transfer;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SftpLimitsTest {
    private static final int PACKET = 32 * 1024;
    private static final int WRITE_PREAMBLE = 9 + 4 + 4 + 8 + 4; // a 4-byte handle, as OpenSSH's sftp-server gives
    private static final int READ_HEADER = 4 + 1 + 4 + 4;
    /** What OpenSSH 9.2's sftp-server answers. */
    private static final SftpLimits OPENSSH = new SftpLimits(256 * 1024, 255 * 1024, 255 * 1024);

    @Test
    void withoutWordFromTheServerARequestFillsOnePacket() {
        assertThat(SftpLimits.UNKNOWN.writePackets(PACKET, WRITE_PREAMBLE)).isEqualTo(1);
        assertThat(SftpLimits.UNKNOWN.readLength(PACKET, READ_HEADER)).isEqualTo(PACKET - READ_HEADER);
    }

    @Test
    void againstOpenSshARequestSpansSevenPacketsWithinItsLimits() {
        int writePackets = OPENSSH.writePackets(PACKET, WRITE_PREAMBLE);
        assertThat(writePackets).isEqualTo(7);
        assertThat(writePackets * PACKET - 5 - WRITE_PREAMBLE).as("the data of one write").isLessThanOrEqualTo(255 * 1024);
        int read = OPENSSH.readLength(PACKET, READ_HEADER);
        assertThat(read).isEqualTo(7 * PACKET - READ_HEADER).isLessThanOrEqualTo(255 * 1024);
    }

    @Test
    void neverMoreThanEightPacketsNorLessThanOne() {
        SftpLimits generous = new SftpLimits(1 << 24, 1 << 24, 1 << 24);
        assertThat(generous.writePackets(PACKET, WRITE_PREAMBLE)).isEqualTo(SftpLimits.MOST_PACKETS);
        assertThat(generous.readLength(PACKET, READ_HEADER)).isEqualTo(SftpLimits.MOST_PACKETS * PACKET - READ_HEADER);
        SftpLimits stingy = new SftpLimits(16 * 1024, 8 * 1024, 8 * 1024);
        assertThat(stingy.writePackets(PACKET, WRITE_PREAMBLE)).as("what it always was: one packet").isEqualTo(1);
        SftpLimits halfSaid = new SftpLimits(256 * 1024, 0, 0);
        assertThat(halfSaid.writePackets(PACKET, WRITE_PREAMBLE)).isEqualTo(1);
    }
}

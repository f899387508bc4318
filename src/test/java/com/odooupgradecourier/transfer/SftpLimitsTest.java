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
        assertThat(SftpLimits.UNKNOWN.writeLength(PACKET, WRITE_PREAMBLE)).isEqualTo(PACKET - 5 - WRITE_PREAMBLE);
        assertThat(SftpLimits.UNKNOWN.readLength(PACKET, READ_HEADER)).isEqualTo(PACKET - READ_HEADER);
    }

    @Test
    void againstOpenSshARequestSpansSevenPacketsWithinItsLimits() {
        assertThat(OPENSSH.writeLength(PACKET, WRITE_PREAMBLE)).as("the data of one write").isEqualTo(7 * PACKET - 5 - WRITE_PREAMBLE)
                .isLessThanOrEqualTo(255 * 1024);
        int read = OPENSSH.readLength(PACKET, READ_HEADER);
        assertThat(read).isEqualTo(7 * PACKET - READ_HEADER).isLessThanOrEqualTo(255 * 1024);
    }

    @Test
    void neverMoreThanEightPacketsNorLessThanOne() {
        SftpLimits generous = new SftpLimits(1 << 24, 1 << 24, 1 << 24);
        assertThat(generous.writeLength(PACKET, WRITE_PREAMBLE)).isEqualTo(SftpLimits.MOST_PACKETS * PACKET - 5 - WRITE_PREAMBLE);
        assertThat(generous.readLength(PACKET, READ_HEADER)).isEqualTo(SftpLimits.MOST_PACKETS * PACKET - READ_HEADER);
        SftpLimits halfSaid = new SftpLimits(256 * 1024, 0, 0);
        assertThat(halfSaid.writeLength(PACKET, WRITE_PREAMBLE)).as("nothing usable said: one packet").isEqualTo(PACKET - 5 - WRITE_PREAMBLE);
    }

    @Test
    void aServerThatTakesLessThanOnePacketGetsNoMore() {
        // e.g. 64 KiB SSH packets granted, writes and reads of 8 KiB said
        int packet = 64 * 1024;
        SftpLimits stingy = new SftpLimits(34_000, 8 * 1024, 8 * 1024);
        assertThat(stingy.writeLength(packet, WRITE_PREAMBLE)).isEqualTo(8 * 1024);
        assertThat(stingy.readLength(packet, READ_HEADER)).isEqualTo(8 * 1024);
    }

    @Test
    void aReadNeverAsksForMoreThanTheServerSaysItAnswers() {
        // an adversarial review found reads 5 bytes longer than what was checked: a server saying 65521 was asked 65523
        long maxRead = 2L * PACKET - 15;
        SftpLimits l = new SftpLimits(1 << 20, maxRead, 1 << 20);
        assertThat((long) l.readLength(PACKET, READ_HEADER)).isLessThanOrEqualTo(maxRead).isEqualTo(PACKET - READ_HEADER);
    }
}

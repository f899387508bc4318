package com.odooupgradecourier.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.odooupgradecourier.transfer.Ranges;
import java.util.List;
import org.junit.jupiter.api.Test;

class RangesTest {

    @Test
    void whatIsMissingIsCutIntoPiecesOnTheSameGridAsTheFirstTransfer() {
        Ranges done = new Ranges().add(0, 10).add(20, 30).add(10, 15);
        assertThat(done.toString()).isEqualTo("0-15,20-30");
        assertThat(done.bytes()).isEqualTo(25);
        List<long[]> missing = done.missing(45, 10);
        assertThat(missing).containsExactly(new long[] {15, 20}, new long[] {30, 40}, new long[] {40, 45});
    }

    @Test
    void nothingDoneMeansEverythingAndAllDoneMeansNothing() {
        assertThat(new Ranges().missing(25, 10)).containsExactly(new long[] {0, 10}, new long[] {10, 20}, new long[] {20, 25});
        assertThat(new Ranges().add(0, 25).missing(25, 10)).isEmpty();
        assertThat(new Ranges().missing(0, 10)).isEmpty();
    }

    @Test
    void itsWrittenFormReadsBackAndAnythingElseIsRefused() {
        Ranges r = new Ranges().add(5, 9).add(100, 200);
        assertThat(Ranges.parse(r.toString()).toString()).isEqualTo("5-9,100-200");
        assertThatThrownBy(() -> Ranges.parse("5-9,x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Ranges.parse("9-5")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void piecesAreBetweenAQuarterMegabyteAndThirtyTwoMegabytes() {
        assertThat(Ranges.blockSize(1000, 4)).isEqualTo(256 * 1024);
        assertThat(Ranges.blockSize(256L << 20, 4)).isEqualTo(16L << 20);
        assertThat(Ranges.blockSize(20L << 30, 4)).isEqualTo(32L << 20);
        assertThat(Ranges.blockSize(3_000_000, 1) % 32768).isZero();
    }
}

package com.odooupgradecourier.transfer;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ChannelGrowthTest {
    private static final long WINDOW = 2 << 20;
    private static final long RTT_200MS = 200_000_000L;
    /** One window per round trip: what one channel moves at most over a 200 ms link. */
    private static final double PER_CHANNEL = WINDOW / 0.2;

    @Test
    void overALongLinkTheChannelsDoubleWhileEachDoublingPaysUpToTheMaximum() {
        ChannelGrowth g = new ChannelGrowth(16, WINDOW, RTT_200MS);
        assertThat(g.channels()).isEqualTo(4);
        assertThat(g.measured(2 * PER_CHANNEL)).as("the first interval settles").isEqualTo(4);
        assertThat(g.measured(4 * PER_CHANNEL)).as("window-bound: doubled").isEqualTo(8);
        assertThat(g.measured(5 * PER_CHANNEL)).as("settling").isEqualTo(8);
        assertThat(g.measured(8 * PER_CHANNEL)).isEqualTo(16);
        assertThat(g.settled()).isTrue();
    }

    @Test
    void aDoublingThatGainedLessThanAFifthIsTheLast() {
        ChannelGrowth g = new ChannelGrowth(16, WINDOW, RTT_200MS);
        g.measured(0);
        assertThat(g.measured(4 * PER_CHANNEL)).isEqualTo(8);
        g.measured(0);
        assertThat(g.measured(4.4 * PER_CHANNEL)).as("the link is full: 10 % more").isEqualTo(8);
        assertThat(g.settled()).isTrue();
        assertThat(g.measured(100 * PER_CHANNEL)).isEqualTo(8);
    }

    @Test
    void channelsThatDoNotFillTheirWindowAreNotDoubled() {
        // a short link: each channel could move 2 MiB per millisecond; the processors, not the window, hold them back
        ChannelGrowth g = new ChannelGrowth(16, WINDOW, 1_000_000L);
        g.measured(0);
        assertThat(g.measured(120e6)).isEqualTo(4);
        assertThat(g.settled()).isTrue();
    }

    @Test
    void theMaximumAndTheServersRefusalBoundIt() {
        assertThat(new ChannelGrowth(1, WINDOW, RTT_200MS).channels()).isEqualTo(1);
        assertThat(new ChannelGrowth(1, WINDOW, RTT_200MS).settled()).isTrue();
        ChannelGrowth g = new ChannelGrowth(6, WINDOW, RTT_200MS);
        g.measured(0);
        assertThat(g.measured(4 * PER_CHANNEL)).as("doubled, but not past the maximum").isEqualTo(6);
        ChannelGrowth refused = new ChannelGrowth(16, WINDOW, RTT_200MS);
        refused.refused(3);
        assertThat(refused.channels()).isEqualTo(3);
        assertThat(refused.settled()).isTrue();
    }
}

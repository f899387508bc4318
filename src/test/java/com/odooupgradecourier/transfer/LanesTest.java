package com.odooupgradecourier.transfer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;

class LanesTest {
    private static List<long[]> pieces(int count, long size) {
        List<long[]> pieces = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            pieces.add(new long[] {i * size, (i + 1) * size});
        }
        return pieces;
    }

    @Test
    void eachLaneIsARunOfPiecesInFileOrderOfAboutEqualBytes() {
        List<long[]> shuffled = pieces(16, 100);
        Collections.shuffle(shuffled, new java.util.Random(7));
        Lanes lanes = new Lanes(shuffled, 4);
        assertThat(lanes.count()).isEqualTo(4);
        for (int lane = 0; lane < 4; lane++) {
            assertThat(lanes.next(lane)).containsExactly(lane * 400L, lane * 400L + 100);
            for (int i = 1; i < 4; i++) {
                assertThat(lanes.follow(lane, lane * 400L + i * 100)).as("lane %d holds 4 pieces in a row", lane)
                        .containsExactly(lane * 400L + i * 100, lane * 400L + i * 100 + 100);
            }
            assertThat(lanes.follow(lane, lane * 400L + 400)).isNull();
        }
    }

    @Test
    void ownNeverTakesFromAnotherLane() {
        Lanes lanes = new Lanes(pieces(4, 100), 2);
        assertThat(lanes.own(0)).containsExactly(0, 100);
        assertThat(lanes.own(0)).containsExactly(100, 200);
        assertThat(lanes.own(0)).as("its own lane is empty; lane 1's pieces stay there").isNull();
        assertThat(lanes.left()).isEqualTo(200);
        assertThat(lanes.next(0)).as("next takes from lane 1").containsExactly(300, 400);
    }

    @Test
    void anEmptyLaneTakesTheBackHalfOfTheFullestSoItsOwnerKeepsItsFront() {
        Lanes lanes = new Lanes(pieces(8, 100), 2);
        assertThat(lanes.next(0)).containsExactly(0, 100);
        int added = lanes.add();
        // lane 0 has 300 bytes left, lane 1 has 400: the new lane takes the back half of lane 1
        assertThat(lanes.next(added)).containsExactly(600, 700);
        assertThat(lanes.follow(1, 500)).as("lane 1 still begins at 400").isNull();
        assertThat(lanes.next(1)).containsExactly(400, 500);
        assertThat(lanes.follow(1, 500)).containsExactly(500, 600);
        assertThat(lanes.follow(1, 600)).as("taken by the new lane").isNull();
        assertThat(lanes.left()).as("300 in lane 0, 100 in the new one").isEqualTo(400);
    }

    @Test
    void aSinglePieceLeftGoesToWhoeverAsksFirst() {
        Lanes lanes = new Lanes(pieces(1, 100), 3);
        assertThat(lanes.next(2)).containsExactly(0, 100);
        assertThat(lanes.next(0)).isNull();
        assertThat(lanes.next(1)).isNull();
    }

    @Test
    void channelsTakingAtOnceGetEveryPieceExactlyOnce() throws Exception {
        Lanes lanes = new Lanes(pieces(1000, 10), 3);
        ConcurrentLinkedQueue<Long> taken = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            int lane = i < 3 ? i : lanes.add();
            Thread t = new Thread(() -> {
                for (long[] p = lanes.next(lane); p != null; p = lanes.next(lane)) {
                    taken.add(p[0]);
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(taken).hasSize(1000).doesNotHaveDuplicates();
        assertThat(lanes.left()).isZero();
    }
}

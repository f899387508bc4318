package com.odooupgradecourier.support;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HostsTest {
    @Test
    void loopbackIsDecidedOnTheAddressAsWrittenNeverByDns() {
        assertThat(Hosts.isLoopback("127.0.0.1")).isTrue();
        assertThat(Hosts.isLoopback("127.1.2.3")).isTrue();
        assertThat(Hosts.isLoopback("::1")).isTrue();
        assertThat(Hosts.isLoopback("[::1]")).isTrue();
        assertThat(Hosts.isLoopback("localhost")).isTrue();
        assertThat(Hosts.isLoopback("127.attacker.example")).isFalse();
        assertThat(Hosts.isLoopback("127.0.0.1.nip.io")).isFalse();
        assertThat(Hosts.isLoopback("999.0.0.1")).isFalse();
        assertThat(Hosts.isLoopback("192.0.2.7")).isFalse();
        assertThat(Hosts.isLoopback("")).isFalse();
        assertThat(Hosts.isAnyLocal("0.0.0.0")).isTrue();
        assertThat(Hosts.isAnyLocal("::")).isTrue();
        assertThat(Hosts.literal("example.com")).isNull();
    }
}

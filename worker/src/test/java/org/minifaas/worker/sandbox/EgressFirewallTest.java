package org.minifaas.worker.sandbox;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.minifaas.common.net.Cidr;

class EgressFirewallTest {
    private static final List<Cidr> REFUSED =
            EgressFirewall.REFUSED_IPV6.stream().map(Cidr::parse).toList();

    private static boolean refused(String address) throws Exception {
        InetAddress a = InetAddress.getByName(address);
        return REFUSED.stream().anyMatch(r -> r.contains(a));
    }

    @Test
    void everyNonGlobalIpv6RangeIsRefused() throws Exception {
        for (String a : List.of(
                "::",
                "::1",
                "::127.0.0.1", // IPv4-compatible
                "::ffff:169.254.169.254", // mapped (Java reads it as the IPv4 address)
                "64:ff9b::a9fe:a9fe",
                "64:ff9b:1::a9fe:a9fe", // local-use NAT64
                "100::1",
                "100:0:0:1::1",
                "2001:0:4136:e378:8000:63bf:3fff:fdd2", // Teredo
                "2001:2::1",
                "2001:10::1",
                "2001:db8::1",
                "2002:a9fe:a9fe::1",
                "3fff::1",
                "5f00::1",
                "fc00::1",
                "fd12:3456::1",
                "fe80::1",
                "fec0::1",
                "ff02::1")) {
            assertTrue(refused(a), a);
        }
        for (String a : List.of("2606:4700:4700::1111", "2001:4860:4860::8888", "2a00:1450:4001::1", "2001:20::1")) {
            assertFalse(refused(a), a);
        }
    }

    @Test
    void theRangesDoNotOverlapAndAreAllInTheRuleset() {
        // nftables refuses a set whose intervals overlap: the table would not be installed
        for (int i = 0; i < REFUSED.size(); i++) {
            for (int j = i + 1; j < REFUSED.size(); j++) {
                Cidr a = REFUSED.get(i);
                Cidr b = REFUSED.get(j);
                assertFalse(a.overlaps(b), a + " " + b);
            }
        }
        String rules = EgressFirewall.ruleset(1234, List.of("192.0.2.53"));
        assertTrue(
                rules.contains("ip6 daddr { " + String.join(", ", EgressFirewall.REFUSED_IPV6) + " } goto refuse"),
                rules);
    }
}

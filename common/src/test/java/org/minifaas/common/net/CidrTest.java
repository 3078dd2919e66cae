package org.minifaas.common.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class CidrTest {
    @Test
    void containsExactlyTheAddressesThatStartWithThePrefix() throws Exception {
        Cidr teredo = Cidr.parse("2001::/32");
        assertTrue(teredo.contains(InetAddress.getByName("2001:0:4136:e378::1")));
        assertTrue(teredo.contains(InetAddress.getByName("2001::")));
        assertTrue(teredo.contains(InetAddress.getByName("2001:0:ffff:ffff:ffff:ffff:ffff:ffff")));
        assertFalse(teredo.contains(InetAddress.getByName("2001:1::1")));
        assertFalse(teredo.contains(InetAddress.getByName("2001:db8::1")));
        Cidr orchid = Cidr.parse("2001:10::/28"); // a prefix that ends inside a byte
        assertTrue(orchid.contains(InetAddress.getByName("2001:1f::1")));
        assertFalse(orchid.contains(InetAddress.getByName("2001:20::1")));
        Cidr ten = Cidr.parse("10.0.0.0/8");
        assertTrue(ten.contains(InetAddress.getByName("10.255.0.1")));
        assertFalse(ten.contains(InetAddress.getByName("11.0.0.1")));
        assertFalse(ten.contains(InetAddress.getByName("a00:1::")), "another family");
        // Java reads an IPv4-mapped literal as the IPv4 address; the range stays IPv6's, and matches it
        assertEquals(16, Cidr.parse("::ffff:0:0/96").prefix().length);
        assertTrue(Cidr.parse("::ffff:0:0/96").contains(InetAddress.getByName("::ffff:10.0.0.1")));
        assertTrue(Cidr.parse("::ffff:0:0/96").contains(InetAddress.getByName("10.0.0.1")));
        assertFalse(Cidr.parse("::/96").contains(InetAddress.getByName("10.0.0.1")));
        assertTrue(Cidr.parse("::/0").contains(InetAddress.getByName("2606:4700::1111")));
    }

    @Test
    void rangesOverlapWhenOneHoldsTheOther() {
        assertTrue(Cidr.parse("::/64").overlaps(Cidr.parse("::ffff:0:0/96")));
        assertFalse(Cidr.parse("2001::/23").overlaps(Cidr.parse("2001:db8::/32")));
        assertTrue(Cidr.parse("2001::/16").overlaps(Cidr.parse("2001:db8::/32")));
        assertFalse(Cidr.parse("2001:10::/28").overlaps(Cidr.parse("2001:20::/28")));
        assertFalse(Cidr.parse("10.0.0.0/8").overlaps(Cidr.parse("::/0")), "another family");
        assertEquals(Cidr.parse("10.0.0.0/8"), Cidr.parse("10.0.0.0/8"));
    }

    @Test
    void onlyLiteralRangesAreAccepted() {
        for (String bad : new String[] {
            "example.com/8",
            "dead.beef/16", // hex letters only: a name, never looked up
            "10/8",
            "10.0.0.0",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/x",
            "10.0.0.1/8", // bits past the prefix
            "2001:db8::1/32",
            "fe80::1%eth0/64"
        }) {
            assertThrows(IllegalArgumentException.class, () -> Cidr.parse(bad), bad);
        }
    }
}

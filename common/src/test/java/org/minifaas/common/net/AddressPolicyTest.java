package org.minifaas.common.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.URI;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AddressPolicyTest {
    final AddressPolicy strict = new AddressPolicy(false);

    @Test
    void privateLoopbackLinkLocalAndSpecialAddressesAreRefused() throws Exception {
        for (String a : List.of(
                "127.0.0.1",
                "127.1.2.3",
                "0.0.0.0",
                "10.0.0.1",
                "172.16.5.4",
                "192.168.1.1",
                "169.254.169.254",
                "100.64.0.1",
                "224.0.0.1",
                "255.255.255.255",
                "::1",
                "::",
                "fe80::1",
                "fc00::1",
                "fd12:3456::1",
                "ff02::1",
                "::ffff:127.0.0.1",
                "::ffff:10.1.2.3",
                "64:ff9b::a9fe:a9fe",
                "2002:7f00:1::1",
                "::127.0.0.1",
                "64:ff9b:1::a9fe:a9fe", // local-use NAT64
                "64:ff9b:1:a9fe:a9:fe00::", // the same, as a /48 prefix embeds it
                "2001:0:4136:e378:8000:63bf:3fff:fdd2", // Teredo
                "2001:db8::1",
                "100::1",
                "100:0:0:1::1",
                "2001:2::1",
                "2001:10::1",
                "3fff::1",
                "5f00::1")) {
            assertFalse(AddressPolicy.isPublic(InetAddress.getByName(a)), a);
        }
    }

    @Test
    void publicAddressesAreAllowed() throws Exception {
        for (String a : List.of(
                "1.1.1.1",
                "140.82.121.3",
                "198.51.100.7",
                "2606:4700::1111",
                "::ffff:8.8.8.8",
                "2001:4860:4860::8888",
                "2a00:1450:4001::1",
                "2001:67c:2e8:22::c100:68b",
                "2001:20::1")) {
            assertTrue(AddressPolicy.isPublic(InetAddress.getByName(a)), a);
        }
    }

    @Test
    void urlHostsInEveryFormAreChecked() {
        for (String url : List.of(
                "http://127.0.0.1:4222/x.git",
                "http://localhost/x.git",
                "http://LOCALHOST:8080/",
                "http://[::1]/x.git",
                "http://169.254.169.254/latest/meta-data",
                "http://10.0.0.1/x.git",
                "http://2130706433/x.git",
                "http://0x7f000001/x.git",
                "http://127.1/x.git",
                "http://0/x.git",
                "https://[::ffff:127.0.0.1]/x.git",
                "http://a.localhost/x.git",
                "http://0177.0.0.1:8765/a",
                "http://017700000001/b",
                "git://0177.0.0.1/c",
                "http://8.8.8.010/x.git",
                // zone ids: Java cannot resolve them, git and curl connect to the address before the "%"
                "http://[::ffff:127.0.0.1%25lo]:8080/x.git",
                "http://[::1%25lo]/x.git",
                "http://[::ffff:169.254.169.254%25eth0]/latest",
                "http://[fe80::1%251]/x.git")) {
            Optional<String> refused = strict.refusal(URI.create(url));
            assertTrue(refused.isPresent(), url);
        }
        assertEquals(Optional.empty(), strict.refusal(URI.create("https://198.51.100.7/x.git")));
        assertEquals(Optional.empty(), new AddressPolicy(true).refusal(URI.create("http://127.0.0.1/x.git")));
    }
}

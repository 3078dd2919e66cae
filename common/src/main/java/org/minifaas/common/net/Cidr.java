package org.minifaas.common.net;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An address range in prefix notation ({@code 2001:db8::/32}, {@code 10.0.0.0/8}), literal addresses only. */
public record Cidr(byte[] prefix, int bits) {
    public Cidr {
        if (bits < 0 || bits > prefix.length * 8) {
            throw new IllegalArgumentException("a /" + bits + " prefix of a " + prefix.length * 8 + "-bit address");
        }
    }

    /** Parses {@code address/bits}; the address must be a literal (never looked up). */
    public static Cidr parse(String cidr) {
        int slash = cidr.indexOf('/');
        if (slash < 0 || !cidr.substring(0, slash).matches("[0-9a-fA-F:.]+")) {
            throw new IllegalArgumentException("not an address range: " + cidr);
        }
        try {
            byte[] address = InetAddress.getByName(cidr.substring(0, slash)).getAddress();
            if (address.length == 4 && cidr.substring(0, slash).contains(":")) {
                // Java reads an IPv4-mapped literal (::ffff:0:0) as the IPv4 address; the range is IPv6's
                byte[] mapped = new byte[16];
                mapped[10] = (byte) 0xff;
                mapped[11] = (byte) 0xff;
                System.arraycopy(address, 0, mapped, 12, 4);
                address = mapped;
            }
            return new Cidr(address, Integer.parseInt(cidr.substring(slash + 1)));
        } catch (UnknownHostException | NumberFormatException e) {
            throw new IllegalArgumentException("not an address range: " + cidr, e);
        }
    }

    /** Whether {@code address} (of the same family) starts with this prefix. */
    public boolean contains(InetAddress address) {
        byte[] a = address.getAddress();
        if (a.length != prefix.length) {
            return false;
        }
        for (int bit = 0; bit < bits; bit++) {
            int mask = 0x80 >>> (bit % 8);
            if ((a[bit / 8] & mask) != (prefix[bit / 8] & mask)) {
                return false;
            }
        }
        return true;
    }
}

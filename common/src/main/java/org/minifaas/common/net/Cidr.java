package org.minifaas.common.net;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.regex.Pattern;

/**
 * An address range in prefix notation ({@code 2001:db8::/32}, {@code 10.0.0.0/8}): a literal dotted quad or IPv6
 * address (never a name: nothing is looked up), no bits set past the prefix. IPv4 addresses are also matched against
 * IPv6 ranges as their mapped form ({@code ::ffff:a.b.c.d}), which is what Java turns a mapped IPv6 address into.
 */
public final class Cidr {
    private static final Pattern DOTTED_QUAD = Pattern.compile(
            "((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])");
    private static final Pattern IPV6 = Pattern.compile("[0-9a-fA-F:.]*:[0-9a-fA-F:.]*");

    private final byte[] prefix;
    private final int bits;
    private final String text;

    private Cidr(byte[] prefix, int bits, String text) {
        this.prefix = prefix;
        this.bits = bits;
        this.text = text;
    }

    /** Parses {@code address/bits}; refuses names, loose forms ({@code 10/8}) and bits set past the prefix. */
    public static Cidr parse(String cidr) {
        int slash = cidr.indexOf('/');
        String address = slash < 0 ? "" : cidr.substring(0, slash);
        boolean v4 = DOTTED_QUAD.matcher(address).matches();
        if (!v4 && !IPV6.matcher(address).matches()) {
            throw new IllegalArgumentException("not an address range: " + cidr);
        }
        byte[] bytes;
        int bits;
        try {
            bytes = InetAddress.getByName(address).getAddress(); // a literal: parsed, not looked up
            bits = Integer.parseInt(cidr.substring(slash + 1));
        } catch (UnknownHostException | NumberFormatException e) {
            throw new IllegalArgumentException("not an address range: " + cidr, e);
        }
        if (!v4 && bytes.length == 4) {
            bytes = mapped(bytes); // Java reads ::ffff:a.b.c.d as the IPv4 address; the range is IPv6's
        }
        if (bits < 0 || bits > bytes.length * 8) {
            throw new IllegalArgumentException("not an address range: " + cidr + " (a /" + bits + " prefix)");
        }
        for (int bit = bits; bit < bytes.length * 8; bit++) {
            if ((bytes[bit / 8] & (0x80 >>> (bit % 8))) != 0) {
                throw new IllegalArgumentException("not an address range: " + cidr + " (bits set past the prefix)");
            }
        }
        return new Cidr(bytes, bits, cidr);
    }

    private static byte[] mapped(byte[] v4) {
        byte[] b = new byte[16];
        b[10] = (byte) 0xff;
        b[11] = (byte) 0xff;
        System.arraycopy(v4, 0, b, 12, 4);
        return b;
    }

    /** Whether {@code address} starts with this prefix (an IPv4 address in an IPv6 range: as its mapped form). */
    public boolean contains(InetAddress address) {
        byte[] a = address.getAddress();
        if (a.length == 4 && prefix.length == 16 && address instanceof Inet4Address) {
            a = mapped(a);
        }
        return a.length == prefix.length && samePrefix(a, bits);
    }

    /** Whether some address is in both ranges (one holds the other). */
    public boolean overlaps(Cidr other) {
        return prefix.length == other.prefix.length && samePrefix(other.prefix, Math.min(bits, other.bits));
    }

    private boolean samePrefix(byte[] a, int length) {
        for (int bit = 0; bit < length; bit++) {
            int mask = 0x80 >>> (bit % 8);
            if ((a[bit / 8] & mask) != (prefix[bit / 8] & mask)) {
                return false;
            }
        }
        return true;
    }

    /** The address bytes of the prefix (a copy). */
    public byte[] prefix() {
        return Arrays.copyOf(prefix, prefix.length);
    }

    public int bits() {
        return bits;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr c && bits == c.bits && Arrays.equals(prefix, c.prefix);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(prefix) + bits;
    }

    @Override
    public String toString() {
        return text;
    }
}

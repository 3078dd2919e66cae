package org.minifaas.common.net;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Which addresses a repository URL may lead to: public ones only, unless REPO_ALLOW_PRIVATE_ADDRESSES=true.
 * Refused: loopback, private (RFC 1918, fc00::/7), link-local (169.254.0.0/16 with cloud metadata, fe80::/10),
 * carrier-grade NAT (100.64.0.0/10), multicast, unspecified, and IPv4 inside IPv6 (mapped, compatible, NAT64,
 * 6to4) when the IPv4 address would be refused. The frontend checks a URL's host when a task is created; the
 * worker checks the address it actually connects to, on every connection and redirect (DNS can change).
 */
public final class AddressPolicy {
    /** The environment variable that turns the policy off, for stacks that serve Git on loopback. */
    public static final String ALLOW_PRIVATE = "REPO_ALLOW_PRIVATE_ADDRESSES";

    private static final String OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
    private static final String DOTTED_QUAD = "(" + OCTET + "\\.){3}" + OCTET;

    /**
     * IPv6 ranges that are not global unicast and that {@link InetAddress}'s own tests do not name (IANA's
     * special-purpose registry, those not globally reachable): local-use NAT64, discard-only, the dummy prefix,
     * Teredo (an IPv4 address inside), benchmarking, ORCHIDv1, documentation and SRv6 identifiers. The worker's
     * egress firewall refuses these too.
     */
    public static final List<String> SPECIAL_IPV6 = List.of(
            "64:ff9b:1::/48",
            "100::/64",
            "100:0:0:1::/64",
            "2001::/32",
            "2001:2::/48",
            "2001:10::/28",
            "2001:db8::/32",
            "3fff::/20",
            "5f00::/16");

    private static final List<Cidr> SPECIAL_IPV6_RANGES =
            SPECIAL_IPV6.stream().map(Cidr::parse).toList();

    private final boolean allowPrivate;

    public AddressPolicy(boolean allowPrivate) {
        this.allowPrivate = allowPrivate;
    }

    public boolean allowsPrivate() {
        return allowPrivate;
    }

    /**
     * The addresses of {@code host}, when every one is allowed; otherwise it does not resolve. For HTTP clients' DNS
     * resolvers: the address checked is then the address connected to (no second lookup a rebinding DNS server
     * could answer otherwise).
     */
    public InetAddress[] resolveAllowed(String host) throws UnknownHostException {
        InetAddress[] addresses = InetAddress.getAllByName(host);
        for (InetAddress a : addresses) {
            if (!allows(a)) {
                throw new RefusedAddressException(host);
            }
        }
        return addresses;
    }

    /** A host that resolves to an address the policy refuses. */
    public static final class RefusedAddressException extends UnknownHostException {
        public RefusedAddressException(String host) {
            super(host + " resolves to a private, loopback or link-local address");
        }
    }

    /** Whether a connection to this address is allowed. */
    public boolean allows(InetAddress address) {
        return allowPrivate || isPublic(address);
    }

    /**
     * Why a repository URL's host is refused, or empty when every address it resolves to is allowed. A host name
     * that does not resolve is not refused here: the clone reports it. An IP literal in brackets that Java cannot
     * read, a zone id among them, is refused.
     */
    public Optional<String> refusal(URI url) {
        if (allowPrivate) {
            return Optional.empty();
        }
        String host = url.getHost();
        if (host == null || host.isEmpty()) {
            return Optional.of("the repository URL has no host");
        }
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        String lower = bare.toLowerCase(Locale.ROOT);
        if (lower.equals("localhost") || lower.endsWith(".localhost")) {
            return Optional.of("repositories on this machine (" + host + ") are not allowed");
        }
        // other resolvers (glibc, curl, git) read octal and short numeric forms that Java reads otherwise
        if (lower.matches("[0-9.]+") && !lower.matches(DOTTED_QUAD)) {
            return Optional.of("numeric hosts other than a plain dotted quad are not allowed (" + host + ")");
        }
        if (lower.matches("(.*\\.)?0x[0-9a-f]*(\\..*)?")) {
            return Optional.of("hexadecimal host names are not allowed (" + host + ")");
        }
        // a zone id ("[::1%25lo]"): Java does not resolve it, while git and curl reach the address before it
        if (bare.indexOf('%') >= 0) {
            return Optional.of("IPv6 zone ids are not allowed (" + host + ")");
        }
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(bare);
        } catch (UnknownHostException e) {
            // an IP literal Java cannot read may still be read by git's resolver: only a name may resolve later
            return host.startsWith("[") ? Optional.of("not a valid IPv6 address (" + host + ")") : Optional.empty();
        }
        for (InetAddress a : addresses) {
            if (!isPublic(a)) {
                return Optional.of(
                        "repositories on private, loopback or link-local addresses are not allowed (" + host + ")");
            }
        }
        return Optional.empty();
    }

    /** Whether an address is a public unicast address. */
    public static boolean isPublic(InetAddress a) {
        if (a.isLoopbackAddress()
                || a.isAnyLocalAddress()
                || a.isLinkLocalAddress()
                || a.isSiteLocalAddress()
                || a.isMulticastAddress()) {
            return false;
        }
        byte[] b = a.getAddress();
        if (a instanceof Inet4Address) {
            int first = b[0] & 0xff;
            int second = b[1] & 0xff;
            return first != 0 // "this network"
                    && !(first == 100 && second >= 64 && second <= 127) // carrier-grade NAT
                    && !(first == 192 && second == 0 && (b[2] & 0xff) == 0) // IETF protocol assignments
                    && !(first == 198 && (second == 18 || second == 19)) // benchmarking
                    && first < 240; // reserved and broadcast
        }
        if (a instanceof Inet6Address) {
            int first = b[0] & 0xff;
            if ((first & 0xfe) == 0xfc) {
                return false; // unique local fc00::/7
            }
            if ((first == 0xfe) && ((b[1] & 0xc0) == 0xc0)) {
                return false; // deprecated site-local fec0::/10
            }
            if (SPECIAL_IPV6_RANGES.stream().anyMatch(r -> r.contains(a))) {
                return false;
            }
            Optional<InetAddress> embedded = embeddedIpv4(b);
            return embedded.map(AddressPolicy::isPublic).orElse(true);
        }
        return false;
    }

    /** The IPv4 address inside an IPv4-mapped, -compatible, NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address. */
    private static Optional<InetAddress> embeddedIpv4(byte[] b) {
        boolean zeros80 = true;
        for (int i = 0; i < 10; i++) {
            zeros80 &= b[i] == 0;
        }
        boolean mapped = zeros80 && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
        boolean compatible = zeros80 && b[10] == 0 && b[11] == 0;
        boolean nat64 = (b[0] & 0xff) == 0 && (b[1] & 0xff) == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b;
        try {
            if (mapped || compatible || nat64) {
                return Optional.of(InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]}));
            }
            if ((b[0] & 0xff) == 0x20 && (b[1] & 0xff) == 0x02) {
                return Optional.of(InetAddress.getByAddress(new byte[] {b[2], b[3], b[4], b[5]}));
            }
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
        return Optional.empty();
    }
}

package org.minifaas.worker.sandbox;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.minifaas.common.net.AddressPolicy;

/**
 * The host firewall rules (nftables) that keep functions' traffic to public addresses: every connection made
 * in the host's network by the functions' account (only their user-mode network stack makes any) is refused
 * towards the host's own addresses, loopback, private (RFC 1918, fc00::/7), shared (100.64/10), link-local
 * (169.254/16 with cloud metadata, fe80::/10), multicast and reserved ranges, IPv4 inside IPv6, and IPv6's other special-purpose ranges (Teredo,
 * local-use NAT64, documentation...); DNS to
 * the host's own resolvers is the one exception. One table, replaced whole at each worker start.
 */
final class EgressFirewall {
    static final String TABLE = "minifaas_egress";

    /**
     * The IPv6 destinations refused: unspecified, loopback and IPv4-compatible, IPv4 inside IPv6 (mapped, NAT64,
     * 6to4: whole ranges, whatever address is inside), unique and link-local, site-local, multicast, and the other
     * special-purpose ranges the repository address policy refuses. No two overlap (nftables refuses that).
     */
    static final List<String> REFUSED_IPV6 = Stream.concat(
                    Stream.of(
                            "::/96",
                            "::ffff:0:0/96",
                            "64:ff9b::/96",
                            "2002::/16",
                            "fc00::/7",
                            "fe80::/10",
                            "fec0::/10",
                            "ff00::/8"),
                    AddressPolicy.SPECIAL_IPV6.stream())
            .toList();

    private EgressFirewall() {}

    /** The ruleset for the account {@code uid} and the resolvers of /etc/resolv.conf. */
    static String ruleset(int uid, List<String> resolvers) {
        List<String> v4 = resolvers.stream().filter(r -> !r.contains(":")).toList();
        List<String> v6 = resolvers.stream().filter(r -> r.contains(":")).toList();
        StringBuilder s = new StringBuilder();
        s.append("table inet ").append(TABLE).append('\n');
        s.append("delete table inet ").append(TABLE).append('\n');
        s.append("table inet ").append(TABLE).append(" {\n");
        s.append("  chain output {\n");
        s.append("    type filter hook output priority 0; policy accept;\n");
        // A positive match: packets without a socket (the kernel's own RSTs, ICMP errors) have no uid, and a
        // "skuid != uid accept" would let them fall through to the rejects below.
        s.append("    meta skuid ").append(uid).append(" jump functions\n");
        s.append("  }\n");
        s.append("  chain functions {\n");
        if (!v4.isEmpty()) {
            s.append("    ip daddr { ")
                    .append(String.join(", ", v4))
                    .append(" } meta l4proto { tcp, udp } th dport 53 accept\n");
        }
        if (!v6.isEmpty()) {
            s.append("    ip6 daddr { ")
                    .append(String.join(", ", v6))
                    .append(" } meta l4proto { tcp, udp } th dport 53 accept\n");
        }
        s.append("    fib daddr type { local, broadcast, multicast, anycast } goto refuse\n");
        s.append("    ip daddr { 0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10, 127.0.0.0/8, 169.254.0.0/16, 172.16.0.0/12, "
                + "192.0.0.0/24, 192.168.0.0/16, 198.18.0.0/15, 224.0.0.0/3 } goto refuse\n");
        s.append("    ip6 daddr { ").append(String.join(", ", REFUSED_IPV6)).append(" } goto refuse\n");
        s.append("  }\n");
        // refused at once: a TCP reset, which the user-mode network stack passes on to the function as "connection
        // refused" (an ICMP error never reaches it, so a connection used to hang until the function's own timeout)
        s.append("  chain refuse {\n");
        s.append("    meta l4proto tcp reject with tcp reset\n");
        s.append("    reject\n");
        s.append("  }\n}\n");
        return s.toString();
    }

    /** The nameservers of /etc/resolv.conf. */
    static List<String> resolvers() {
        List<String> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/etc/resolv.conf"))) {
                String[] f = line.trim().split("\\s+");
                if (f.length >= 2 && f[0].equals("nameserver") && f[1].matches("[0-9a-fA-F:.]+")) {
                    out.add(f[1]);
                }
            }
        } catch (IOException e) {
            // no resolver: functions get no DNS through the firewall
        }
        return out;
    }

    /** Whether the table is in place as installed. */
    static boolean installed() throws IOException, InterruptedException {
        Process nft = new ProcessBuilder("nft", "list", "table", "inet", TABLE)
                .redirectErrorStream(true)
                .start();
        String out = new String(nft.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return nft.waitFor(10, TimeUnit.SECONDS) && nft.exitValue() == 0 && out.contains("jump functions");
    }

    /** Installs the rules (root); the reason when it cannot. */
    static void install(int uid) throws IOException, InterruptedException {
        Process nft =
                new ProcessBuilder("nft", "-f", "-").redirectErrorStream(true).start();
        try (OutputStream in = nft.getOutputStream()) {
            in.write(ruleset(uid, resolvers()).getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(nft.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!nft.waitFor(20, TimeUnit.SECONDS) || nft.exitValue() != 0) {
            throw new IOException("nft refused the egress rules: " + out);
        }
    }
}

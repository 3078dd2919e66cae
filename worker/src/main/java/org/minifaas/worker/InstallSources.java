package org.minifaas.worker;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.minifaas.common.net.AddressPolicy;

/**
 * Where a package install will fetch from, checked before it runs when it runs on the host's network with private
 * addresses refused (no egress network to enforce that): every URL a lockfile, package.json or requirements.txt names
 * (a lockfile's {@code resolved}, a URL dependency, an index option) must be http or https to a public address. The
 * registries' own defaults are public. A check before the fetch, not a firewall: a name that resolves elsewhere later
 * is not caught (egress is).
 */
final class InstallSources {
    private static final Pattern URL = Pattern.compile("(?i)\\b([a-z][a-z0-9+.-]*)://[^\\s\"'#<>\\\\]+");

    private InstallSources() {}

    /** Why an install that reads {@code text} (the file {@code name}) is refused, or empty. */
    static Optional<String> refusal(AddressPolicy policy, String name, String text) {
        Set<String> seen = new LinkedHashSet<>();
        Matcher m = URL.matcher(text);
        while (m.find()) {
            String url = m.group();
            String scheme = m.group(1).toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https")) {
                return Optional.of(name + " names a " + scheme
                        + " URL; without the functions' egress network installs fetch over http(s) only: refused");
            }
            URI uri;
            try {
                uri = new URI(url);
            } catch (URISyntaxException e) {
                return Optional.of(name + " names a URL that is not valid: refused");
            }
            if (uri.getHost() == null || !seen.add(uri.getHost().toLowerCase(Locale.ROOT))) {
                if (uri.getHost() == null) {
                    return Optional.of(name + " names a URL without a host: refused");
                }
                continue;
            }
            Optional<String> refused = policy.refusal(uri);
            if (refused.isPresent()) {
                return Optional.of(name + " fetches from " + uri.getHost()
                        + ", a private, loopback or link-local address: refused");
            }
        }
        return Optional.empty();
    }
}

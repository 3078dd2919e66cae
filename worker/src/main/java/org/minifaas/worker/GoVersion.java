package org.minifaas.worker;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Go release as go.mod and toolchains spell it: {@code 1.21}, {@code 1.21.3}, {@code go1.23.5}, {@code 1.22rc1}.
 * Ordered the way Go orders them: a language version ({@code 1.21}) is before its first release ({@code 1.21.0}), a
 * release candidate before the release.
 *
 * @param major      1
 * @param minor      the release series' minor number
 * @param patch      -1 when not given
 * @param prerelease "" for a release, else e.g. "rc1" or "beta2"
 */
record GoVersion(int major, int minor, int patch, String prerelease) implements Comparable<GoVersion> {
    private static final Pattern FORM =
            Pattern.compile("(?:go)?(\\d{1,4})\\.(\\d{1,4})(?:\\.(\\d{1,4}))?((?:rc|beta)\\d{1,4})?");

    /** The version spelled by {@code text}, or empty when it is not one. */
    static Optional<GoVersion> parse(String text) {
        Matcher m = FORM.matcher(text == null ? "" : text.strip());
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(new GoVersion(
                Integer.parseInt(m.group(1)),
                Integer.parseInt(m.group(2)),
                m.group(3) == null ? -1 : Integer.parseInt(m.group(3)),
                m.group(4) == null ? "" : m.group(4)));
    }

    /** Whether both are of the same release series (1.21 and 1.21.13). */
    boolean sameSeries(GoVersion other) {
        return major == other.major && minor == other.minor;
    }

    @Override
    public int compareTo(GoVersion o) {
        int c = Integer.compare(major, o.major);
        if (c == 0) {
            c = Integer.compare(minor, o.minor);
        }
        if (c == 0) {
            // 1.21 < 1.21rc1 < 1.21.0: the language version first, then prereleases, then releases
            c = Integer.compare(rank(), o.rank());
        }
        if (c == 0) {
            c = patch != -1 || o.patch != -1 ? Integer.compare(patch, o.patch) : comparePrerelease(o);
        }
        return c;
    }

    private int rank() {
        if (patch == -1 && prerelease.isEmpty()) {
            return 0;
        }
        return patch == -1 ? 1 : 2;
    }

    private int comparePrerelease(GoVersion o) {
        boolean beta = prerelease.startsWith("beta");
        boolean otherBeta = o.prerelease.startsWith("beta");
        if (beta != otherBeta) {
            return beta ? -1 : 1;
        }
        return Integer.compare(number(prerelease), number(o.prerelease));
    }

    private static int number(String prerelease) {
        String digits = prerelease.replaceAll("\\D", "");
        return digits.isEmpty() ? 0 : Integer.parseInt(digits);
    }

    @Override
    public String toString() {
        return major + "." + minor + (patch >= 0 ? "." + patch : "") + prerelease;
    }
}
